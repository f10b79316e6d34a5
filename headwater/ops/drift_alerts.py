"""Data drift alerts: raised when a detector run's magnitude crosses its threshold, delivered
through a durable outbox.

:func:`sweep` (called by the scheduler of ``headwater serve`` each round, under its lease) does
two things:

1. **Raise.** For every finished detector run not looked at yet, it compares the run's data drift
   magnitude (0-100) with the detector's ``drift_threshold`` (0-1, as a fraction of 100): above it,
   one ``drift_alerts`` row is inserted (unique per run, so two schedulers raise it once), the
   run gets the property ``datadrift.alert`` (what crossed what), one line goes to the server log,
   and — only when ``HEADWATER_SMTP_HOST`` is set — one e-mail to the detector's addresses
   (:mod:`headwater.ops.drift_mail`). Without an SMTP server the addresses are kept and shown.
2. **Deliver.** A detector with a webhook (its URL is kept only in the workspace's secrets file,
   under ``drift/<detector name>/webhook_url``) gets its alerts in state ``pending``: each is
   POSTed as JSON (:func:`alert_body`) when its ``next_attempt_at`` has come; a failure waits
   :func:`headwater.ops.drift_webhook.backoff` before the next attempt, and after
   :func:`~headwater.ops.drift_webhook.max_attempts` the alert's webhook is ``failed``. As the
   state is in the database, a restarted server retries what was pending.

The URL never reaches a log or a page: errors name it redacted (scheme, host, port).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from headwater.status import DetectorState, WebhookState

__all__ = ["ALERT_PROPERTY", "MagnitudeFn", "SweepReport", "alert_body", "crosses", "sweep", "webhook_key"]

log = logging.getLogger(__name__)

#: The run property an alert sets on its detector run.
ALERT_PROPERTY = "datadrift.alert"

#: ``magnitudes(store, ws_folder, detector, run_id) -> [(target date, magnitude 0-100)]``: the
#: periods a finished detector run measured (a backfill run covers several), with their magnitude.
MagnitudeFn = Callable[[Any, Path, Any, str], "list[tuple[str, float]]"]

#: Seconds one sweep spends delivering webhooks at most (then the next round goes on).
DELIVERY_BUDGET = 5.0

# Detector runs this process has already compared with their threshold (finished runs never
# change): a restarted server looks at each finished run once more, then not again.
_CHECKED: set[str] = set()


@dataclass
class SweepReport:
    """What one :func:`sweep` did: alerts raised, webhooks delivered and failed (alert ids)."""

    raised: list[int] = field(default_factory=list)
    delivered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def webhook_key(detector_name: str) -> str:
    """The secrets-file key of a detector's webhook URL."""
    return f"drift/{detector_name}/webhook_url"


def crosses(magnitude: float, threshold: float) -> bool:
    """Whether a magnitude (0-100) crosses a threshold (0-1): it is above ``threshold * 100``."""
    return magnitude > threshold * 100.0


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _webhook_url(ws_folder: Path, detector_name: str) -> str | None:
    from headwater.store.secrets import SecretStore

    try:
        return SecretStore(ws_folder).get(webhook_key(detector_name))
    except Exception:  # a broken secrets file: reported by whatever else reads it
        log.exception("The webhook of data drift detector %r could not be read", detector_name)
        return None


def _run_magnitudes(store: Any, ws_folder: Path, detector: Any, run_id: str) -> list[tuple[str, float]]:
    """The periods of a detector run with their magnitude (:mod:`headwater.ops.drift_results`;
    from the steps' metrics, no report is read)."""
    from headwater.ops.drift_results import detector_results

    results = detector_results((store, ws_folder), detector.name, run_id=run_id, with_reports=False)
    return [(r.target_date.isoformat(), float(r.magnitude)) for r in results if r.magnitude is not None]


def _run_threshold(store: Any, run_id: str, default: float) -> float:
    """The threshold of a run: ``run(..., drift_threshold=t)`` sets the run property
    ``drift_threshold`` for that run's result; else the detector's."""
    text = store.get_properties(run_id).get("drift_threshold")
    try:
        return default if text is None else float(text)
    except ValueError:
        return default


def alert_body(alert: Any, detector: Any) -> dict[str, Any]:
    """The JSON a webhook receives for ``alert``."""
    return {
        "event": "datadrift.alert",
        "detector": alert.detector_name,
        "detector_id": alert.detector_id,
        "run_id": alert.run_id,
        "target_date": alert.target_date,
        "frequency": getattr(detector, "frequency", None),
        "magnitude": alert.magnitude,
        "drift_threshold": alert.threshold,
        "email_addresses": list(getattr(detector, "alert_emails", None) or []),
        "created_time": alert.created_at,
        "studio_path": f"/studio/drift/{alert.detector_name}?period={alert.target_date}",
    }


def sweep(
    store: Any, ws_folder: Path, now: datetime | None = None, *, magnitude: MagnitudeFn | None = None
) -> SweepReport:
    """Raise the alerts of newly finished detector runs and deliver the webhooks that are due."""
    report = SweepReport()
    now = now or datetime.now(UTC)
    ws_folder = Path(ws_folder)
    for detector in store.list_detectors(include_deleted=False):
        try:
            report.raised.extend(_raise(store, ws_folder, detector, magnitude or _run_magnitudes, now))
        except Exception:  # one broken detector must not stop the others
            log.exception("The runs of data drift detector %r could not be checked for alerts", detector.name)
    _deliver(store, ws_folder, now, report)
    return report


def _raise(store: Any, ws_folder: Path, detector: Any, magnitudes: MagnitudeFn, now: datetime) -> list[int]:
    """Compare each newly finished run of ``detector`` with its threshold; one alert per run (for
    a backfill run over several periods: the period with the largest magnitude above it)."""
    from headwater.store.records import TERMINAL_STATUSES

    raised: list[int] = []
    run_ids = dict.fromkeys(r.run_id for r in store.list_drift_runs(detector.id) if r.run_id)
    for run_id in run_ids:
        if run_id in _CHECKED:
            continue
        run = store.get_run(run_id)
        if run is None or run.status not in TERMINAL_STATUSES:
            continue
        if store.drift_alert_of(run_id) is not None:
            _CHECKED.add(run_id)
            continue
        measured = magnitudes(store, ws_folder, detector, run_id)
        _CHECKED.add(run_id)  # (when reading them failed, the next round tries again)
        threshold = _run_threshold(store, run_id, detector.drift_threshold)
        crossing = [(m, d) for d, m in measured if crosses(m, threshold)]
        if not crossing:
            continue
        value, target_date = max(crossing)
        webhook = _webhook_url(ws_folder, detector.name) is not None
        alert = store.record_drift_alert(
            replace(detector, drift_threshold=threshold), run_id, target_date, value, webhook=webhook, now=_iso(now)
        )
        if alert is None:
            continue  # another scheduler raised it
        text = f"magnitude {value:.1f} % crossed the threshold {threshold * 100:g} %"
        store.add_properties(run_id, {ALERT_PROPERTY: text})
        emails = list(detector.alert_emails or [])
        log.warning(
            "Data drift alert: detector %r, period %s: %s (run %s); webhook: %s; e-mail: %s",
            detector.name,
            target_date,
            text,
            run_id,
            "pending" if webhook else "none",
            ", ".join(emails) or "none",
        )
        if emails:
            from headwater.ops.drift_mail import send_alert_mail

            send_alert_mail(emails, alert_body(alert, detector))
        raised.append(alert.id)
    return raised


def _deliver(store: Any, ws_folder: Path, now: datetime, report: SweepReport) -> None:
    import time

    from headwater.ops.drift_webhook import WebhookError, backoff, max_attempts, post_json, redact

    ends = time.monotonic() + DELIVERY_BUDGET
    for alert in store.pending_drift_alerts(_iso(now)):
        if time.monotonic() > ends:
            break  # a slow receiver must not hold the scheduler's round up: the rest go next round
        detector = store.get_detector_by_id(alert.detector_id)
        url = (
            None
            if detector is None or detector.state == DetectorState.Deleted
            else _webhook_url(ws_folder, alert.detector_name)
        )
        if url is None:
            store.update_drift_alert_delivery(
                alert.id, state=WebhookState.failed, error="The detector has no webhook any more."
            )
            report.failed.append(alert.id)
            continue
        try:
            post_json(url, alert_body(alert, detector))
        except WebhookError as exc:
            attempts = alert.attempts + 1
            if attempts >= max_attempts():
                store.update_drift_alert_delivery(alert.id, state=WebhookState.failed, error=str(exc))
                report.failed.append(alert.id)
                log.warning(
                    "Data drift alert %s of detector %r: gave the webhook up after %d attempts: %s",
                    alert.id,
                    alert.detector_name,
                    attempts,
                    exc,
                )
            else:
                store.update_drift_alert_delivery(
                    alert.id, state=WebhookState.pending, error=str(exc), next_attempt_at=_iso(now + backoff(attempts))
                )
            continue
        store.update_drift_alert_delivery(alert.id, state=WebhookState.delivered)
        report.delivered.append(alert.id)
        log.info("Data drift alert %s of detector %r delivered to %s", alert.id, alert.detector_name, redact(url))
