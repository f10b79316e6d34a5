"""The scheduler inside ``headwater serve``: started and stopped with the app.

(The schedules work replaces this module; until then starting and stopping do nothing.)
"""

from __future__ import annotations

from fastapi import FastAPI

__all__ = ["start", "stop"]


def start(app: FastAPI) -> None:
    """Start the scheduler for the app's workspace (nothing yet)."""


def stop(app: FastAPI) -> None:
    """Stop the scheduler (nothing yet)."""
