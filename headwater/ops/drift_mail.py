"""E-mail for data drift alerts, sent only when an SMTP server is configured.

SDK v1's ``AlertConfiguration(email_addresses)`` mailed its addresses from Azure Monitor; here the
addresses are kept and shown (the studio's detector page, the webhook body), and a mail goes out
only when ``HEADWATER_SMTP_HOST`` names an SMTP server (``HEADWATER_SMTP_PORT``, default 25;
``HEADWATER_SMTP_FROM``, default ``headwater@localhost``). Plain SMTP without authentication (a
local relay); a failure is logged and not retried (the webhook is the reliable channel).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

__all__ = ["send_alert_mail", "smtp_settings"]

log = logging.getLogger(__name__)


def smtp_settings() -> tuple[str, int, str] | None:
    """``(host, port, sender)`` from the environment, or None when no SMTP server is configured."""
    host = os.environ.get("HEADWATER_SMTP_HOST", "").strip()
    if not host:
        return None
    text = os.environ.get("HEADWATER_SMTP_PORT", "").strip()
    try:
        port = int(text) if text else 25
    except ValueError:
        log.warning("HEADWATER_SMTP_PORT=%r is not a number; using 25", text)
        port = 25
    sender = os.environ.get("HEADWATER_SMTP_FROM", "").strip() or "headwater@localhost"
    return host, port, sender


def send_alert_mail(addresses: Sequence[str], body: dict[str, Any]) -> bool:
    """Mail ``body`` (an alert, :func:`headwater.ops.drift_alerts.alert_body`) to ``addresses``
    when an SMTP server is configured; returns whether a mail was sent."""
    settings = smtp_settings()
    if settings is None or not addresses:
        return False
    import smtplib
    from email.message import EmailMessage

    host, port, sender = settings
    message = EmailMessage()
    message["Subject"] = f"Data drift alert: detector {body['detector']}, period {body['target_date']}"
    message["From"] = sender
    message["To"] = ", ".join(addresses)
    message.set_content(
        f"Data drift detector {body['detector']!r} measured a drift magnitude of {body['magnitude']:.1f} % "
        f"for the period starting {body['target_date']}, above its threshold of "
        f"{body['drift_threshold'] * 100:g} %.\n\nRun: {body['run_id']}\nStudio: {body['studio_path']}\n"
    )
    try:
        with smtplib.SMTP(host, port, timeout=10) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("The data drift alert mail to %s could not be sent through %s:%d: %s", addresses, host, port, exc)
        return False
    return True
