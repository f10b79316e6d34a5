"""Delivering a drift alert to a webhook: one POST of a JSON body, its back-off, and redaction.

A webhook URL is a secret (it often carries a token in its path or query), kept only in the
workspace's secrets file: anything Headwater prints, logs or shows names it by
:func:`redact` (scheme, host and port). :func:`post_json` makes one attempt with the standard
library (no dependency for one POST); the retries are the outbox's
(:mod:`headwater.ops.drift_alerts`): a failed attempt waits :func:`backoff` before the next, so a
restarted server picks them up where they were.

Settings (environment): ``HEADWATER_DRIFT_WEBHOOK_ATTEMPTS`` (default 8) attempts before an alert's
webhook is given up (``failed``); ``HEADWATER_DRIFT_WEBHOOK_BACKOFF`` (seconds, default 15) the
first wait, doubled after each failure up to an hour; ``HEADWATER_DRIFT_WEBHOOK_TIMEOUT`` (seconds,
default 5) how long one POST may take.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any

from headwater.errors import HeadwaterError

__all__ = ["WebhookError", "backoff", "max_attempts", "post_json", "redact", "timeout"]

_MAX_WAIT = timedelta(hours=1)


class WebhookError(HeadwaterError):
    """A webhook POST failed (the URL in the message is redacted)."""


def _env_number(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    try:
        return float(text) if text else default
    except ValueError:
        return default


def max_attempts() -> int:
    """Attempts before an alert's webhook is given up."""
    return max(1, int(_env_number("HEADWATER_DRIFT_WEBHOOK_ATTEMPTS", 8)))


def timeout() -> float:
    """Seconds one POST may take."""
    return max(0.1, _env_number("HEADWATER_DRIFT_WEBHOOK_TIMEOUT", 5.0))


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: the base, doubled each time,
    at most an hour."""
    base = max(0.0, _env_number("HEADWATER_DRIFT_WEBHOOK_BACKOFF", 15.0))
    return min(timedelta(seconds=base * 2 ** max(0, attempts - 1)), _MAX_WAIT)


def redact(url: str) -> str:
    """``url`` without what may be secret: user, password, path and query give way to ``…``."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<webhook URL>"
    if not parts.scheme:
        return "<webhook URL>"
    return f"{parts.scheme}://{host}{port}/…"


def post_json(url: str, body: dict[str, Any], *, seconds: float | None = None) -> int:
    """POST ``body`` as JSON to ``url``; returns the HTTP status (2xx). Raises :class:`WebhookError`
    (naming the redacted URL) for any other status, a refused connection, a time-out."""
    import urllib.error
    import urllib.request

    if not url.lower().startswith(("http://", "https://")):
        raise WebhookError(
            f"The webhook URL {redact(url)} is not an http(s) URL",
            hint="Set AlertConfiguration(webhook_url='https://...') again.",
        )
    data = json.dumps(body, sort_keys=True).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json", "User-Agent": "headwater-drift"}
    )
    try:
        with urllib.request.urlopen(request, timeout=seconds or timeout()) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise WebhookError(f"The webhook {redact(url)} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WebhookError(f"The webhook {redact(url)} could not be reached: {reason}") from None
    if not 200 <= status < 300:
        raise WebhookError(f"The webhook {redact(url)} answered HTTP {status}")
    return status
