"""How the metadata store writes values: timestamps and JSON columns.

Standard library only and cheap to import: creating a workspace
(:mod:`headwater.store.new_sqlite`) writes its first records with these, without the store's
query modules. :mod:`headwater.store.records` and :mod:`headwater.store.repo_base` re-export them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

__all__ = ["dumps", "loads", "utcnow"]

TYPE_CHECKING = False  # `import typing` is the largest import left on Workspace.create's path
if TYPE_CHECKING:
    from typing import Any


def utcnow() -> str:
    """The current time as ISO-8601 UTC text with microseconds (what every timestamp column holds)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def dumps(value: Any) -> str:
    """``value`` as the text of a JSON column (canonical: sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def loads(text: str | None) -> Any:
    """A JSON column's text decoded (``None`` stays ``None``)."""
    return None if text is None else json.loads(text)
