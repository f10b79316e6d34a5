"""``Schedule.load_yaml``: SDK v1's schedule YAML file (a ``Schedule:`` section) as ``Schedule.create``'s arguments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headwater.sdk.schedule_recurrence import ScheduleRecurrence, TimeZone

if TYPE_CHECKING:
    from headwater.sdk.workspace import Workspace

__all__ = ["load_schedule_yaml"]

_KEYS = (
    "description",
    "recurrence",
    "pipeline_parameters",
    "wait_for_provisioning",
    "wait_timeout",
    "datastore_name",
    "polling_interval",
    "data_path_parameter_name",
    "continue_on_step_failure",
    "path_on_datastore",
)
_RECURRENCE_KEYS = ("frequency", "interval", "start_time", "time_zone", "hours", "minutes", "time_of_day", "week_days")


def load_schedule_yaml(workspace: Workspace, filename: str) -> dict[str, Any]:
    """The keys of the file's ``Schedule:`` section that ``Schedule.create`` takes: ``recurrence``
    as a :class:`ScheduleRecurrence`, ``datastore_name`` as the workspace's Datastore."""
    import yaml

    from headwater.sdk.datastore import Datastore

    with open(filename, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict) or "Schedule" not in data:
        raise ValueError(f'Schedule Yaml file must have a "Schedule:" section ({filename})')
    section = data["Schedule"] or {}
    out: dict[str, Any] = {}
    for key in _KEYS:
        if key not in section:
            continue
        value = section[key]
        if key == "datastore_name" and value is not None:
            value = Datastore(workspace, str(value))
        elif key == "recurrence" and value is not None:
            rec = {k: value.get(k) for k in _RECURRENCE_KEYS}
            start = rec["start_time"]
            value = ScheduleRecurrence(
                frequency=rec["frequency"],
                interval=rec["interval"],
                start_time=start.replace(tzinfo=None) if hasattr(start, "tzinfo") else start,
                time_zone=None if rec["time_zone"] is None else TimeZone(rec["time_zone"]),
                hours=rec["hours"],
                minutes=rec["minutes"],
                time_of_day=rec["time_of_day"],
                week_days=rec["week_days"],
            )
        out[key] = value
    return out
