"""SDK v1's ``AlertConfiguration`` and the argument checks of ``DataDriftDetector``.

The checks and their messages follow ``azureml-datadrift`` 1.62 (``ParameterValidator``):
frequency ``Day`` / ``Week`` / ``Month``, a threshold in [0, 1] (default 0.2), a latency of 0-1000
hours, at most 200 listed features without commas, at most 31 periods per backfill. Each error is
a :class:`DriftArgumentError` (a HeadwaterError that is also the ValueError or TypeError SDK v1
raised), naming the argument and what to pass instead.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from headwater.errors import HeadwaterError
from headwater.ops.drift_periods import FREQUENCIES, periods_between, utc_naive

__all__ = [
    "AlertConfiguration",
    "DriftArgumentError",
    "DriftTypeError",
    "BACKFILL_LIMIT",
    "DEFAULT_THRESHOLD",
    "MAX_FEATURES",
    "MAX_LATENCY",
    "check_backfill",
    "check_datetime",
    "check_feature_list",
    "check_frequency",
    "check_latency",
    "check_name",
    "check_threshold",
]

DEFAULT_THRESHOLD = 0.2
MAX_LATENCY = 1000
MAX_FEATURES = 200
BACKFILL_LIMIT = 31
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$")
_FEATURE = re.compile(r"^[A-Za-z0-9_.\- ]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class DriftArgumentError(HeadwaterError, ValueError):
    """An argument of a DataDriftDetector call has a value SDK v1 refuses."""


class DriftTypeError(HeadwaterError, TypeError):
    """An argument of a DataDriftDetector call has a type SDK v1 refuses."""


def check_name(name: object) -> str:
    if not isinstance(name, str):
        raise DriftTypeError(f"name must be a string, got {name!r}.")
    if not _NAME.match(name):
        raise DriftArgumentError(
            f"name {name!r} is not valid: it must start with a letter or a digit and contain only letters, "
            "digits, dashes and underscores (at most 255 characters)."
        )
    return name


def check_frequency(frequency: object) -> str:
    if frequency is None:
        return FREQUENCIES[0]
    if frequency not in FREQUENCIES:
        raise DriftTypeError(f"frequency must one of {list(FREQUENCIES)}, got {frequency!r}.")
    return str(frequency)


def check_threshold(threshold: object, *, default: float | None = DEFAULT_THRESHOLD) -> float | None:
    if threshold is None:
        return default
    msg = f"drift_threshold must be a positive float value between 0 and 1, got {threshold!r}."
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise DriftTypeError(msg)
    if not 0 <= threshold <= 1:
        raise DriftArgumentError(msg)
    return float(threshold)


def check_latency(latency: object) -> int:
    if latency is None:
        return 0
    if isinstance(latency, bool) or not isinstance(latency, int):
        raise DriftTypeError(f"latency must be of type int (hours), got {latency!r}.")
    if not 0 <= latency <= MAX_LATENCY:
        raise DriftArgumentError(
            f"latency must be greater than or equal to 0 and less than or equal to {MAX_LATENCY} (hours), "
            f"got {latency}."
        )
    return latency


def check_feature_list(features: object) -> list[str] | None:
    if not features:
        return None
    if not isinstance(features, list | tuple):
        raise DriftTypeError(f"feature_list must be a list of column names, got {features!r}.")
    if len(features) > MAX_FEATURES:
        raise DriftArgumentError(
            f"feature_list exceeds max length of {MAX_FEATURES} ({len(features)} features).",
            hint="List at most 200 features, or pass feature_list=None to use every common feature.",
        )
    for f in features:
        if not isinstance(f, str) or "," in f:
            raise DriftArgumentError(f"A feature must be a string and cannot contain any commas(,): {f!r}.")
        if not _FEATURE.match(f):
            raise DriftArgumentError(
                f"Feature name {f!r} should only contain characters, numbers, dashes, underscores, dots and spaces."
            )
    return list(features)


def check_datetime(value: object, what: str) -> datetime:
    if not isinstance(value, datetime | date):
        raise DriftTypeError(f"{what} must be a datetime, got {value!r}.")
    return utc_naive(value)


def check_backfill(frequency: str, start_date: object, end_date: object) -> tuple[datetime, datetime]:
    start, end = check_datetime(start_date, "start_date"), check_datetime(end_date, "end_date")
    if end < start:
        raise DriftArgumentError(f"Parameter end_date ({end}) needs to be later than start_date ({start}).")
    count = len(periods_between(frequency, start, end))
    if count > BACKFILL_LIMIT:
        raise DriftArgumentError(
            f"Current backfill batch size is {count} which exceeds maximum backfill batch size "
            f"{BACKFILL_LIMIT} {frequency}s. Reduce window between start_date and end_date.",
            hint=f"Run backfill in pieces of at most {BACKFILL_LIMIT} periods.",
        )
    return start, end


class AlertConfiguration:
    """Alerts of a DataDriftDetector: e-mail addresses (kept and shown; mail is sent only where
    the server has an SMTP server configured) and, a Headwater extension, a webhook URL that
    receives a JSON POST per alert. The URL is kept only in the workspace's secrets file."""

    def __init__(self, email_addresses: list[str], webhook_url: str | None = None) -> None:
        if not isinstance(email_addresses, list):
            raise DriftTypeError(f"email_addresses must be of type list(str), got {email_addresses!r}.")
        bad = [str(i) for i, m in enumerate(email_addresses) if not isinstance(m, str) or not _EMAIL.match(m)]
        if bad:
            raise DriftArgumentError(f"Invalid email address format found. Indexes are {', '.join(bad)}")
        if webhook_url is not None and (
            not isinstance(webhook_url, str) or not webhook_url.startswith(("http://", "https://"))
        ):
            raise DriftArgumentError(f"webhook_url must be an http(s) URL, got {webhook_url!r}.")
        self.email_addresses = list(email_addresses)
        self.webhook_url = webhook_url

    def __repr__(self) -> str:
        shown: dict[str, Any] = {"email_addresses": self.email_addresses}
        if self.webhook_url is not None:
            shown["webhook_url"] = "***"
        return str(shown)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AlertConfiguration) and (self.email_addresses, self.webhook_url) == (
            other.email_addresses,
            other.webhook_url,
        )

    __hash__ = None  # type: ignore[assignment]
