"""Step events as JSON lines: building, encoding, appending and checking them.

The event shapes are documented in :mod:`headwater.runtime.context` (the executor's contract).
This module is shared by both sides: the step writes with :func:`append_event`, the orchestrator
checks each line it ingests with :func:`event_problem`. Stdlib only.
"""

from __future__ import annotations

import os
import time

from headwater.errors import PathEscapeError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "ARTIFACTS_DIR",
    "EVENT_TYPES",
    "METRIC_KINDS",
    "RUN_TARGETS",
    "TABLE_TYPES",
    "append_event",
    "artifact_name",
    "encode_event",
    "event_problem",
    "to_jsonable",
    "utc_now",
]

#: The folder under a run folder that holds uploaded files.
ARTIFACTS_DIR = "artifacts"
EVENT_TYPES = ("metric", "tags", "remove_tags", "properties", "file")
METRIC_KINDS = ("scalar", "list", "row", "table", "image")
#: SDK v1's typed table metrics; logged as ``table`` metrics with this ``table_type``.
TABLE_TYPES = ("accuracy_table", "confusion_matrix", "predictions", "residuals")
RUN_TARGETS = ("self", "parent")

_APPEND_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def utc_now() -> str:
    """The current time as ISO-8601 UTC text with microseconds (the store's timestamp format).

    The same text as ``datetime.now(UTC).isoformat(timespec="microseconds")``, without importing
    ``datetime`` (a step should start fast).
    """
    seconds, micros = divmod(time.time_ns() // 1000, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}+00:00"


def to_jsonable(value: Any) -> Any:
    """``value`` made JSON-able: containers recursively, numpy-like objects via tolist()/item().

    Floats (NaN and infinities included) pass through; ``json`` writes them as ``NaN``/``Infinity``.
    Anything without a JSON form becomes its ``str()``.
    """
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    for method in ("tolist", "item"):  # numpy arrays and scalars, pandas Series, torch tensors ...
        convert = getattr(value, method, None)
        if callable(convert):
            try:
                converted = convert()
            except Exception:  # e.g. item() on a many-element array: try the next way
                continue
            if converted is not value:
                return to_jsonable(converted)
    return str(value)


def encode_event(event: dict[str, Any]) -> bytes:
    """One event as a ``\\n``-terminated UTF-8 JSON line, values made JSON-able (:func:`to_jsonable`).

    Newlines inside strings are escaped by ``json``, so the line never contains a raw one.
    """
    import json  # here, not at the top: an offline run never needs it

    return (json.dumps(to_jsonable(event), ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def append_event(events_file: str, event: dict[str, Any]) -> None:
    """Append ``event`` to ``events_file`` with a single ``write()`` in append mode.

    The file is opened and closed per event (three system calls): nothing stays open between
    calls, a forked child can log too, and nothing needs flushing at exit.
    """
    data = encode_event(event)
    fd = os.open(events_file, _APPEND_FLAGS, 0o644)
    try:
        written = os.write(fd, data)
        while written < len(data):  # only for huge lines; a regular file takes it all at once
            written += os.write(fd, data[written:])
    finally:
        os.close(fd)


def artifact_name(name: object) -> str:
    """Validate and normalise an artifact name (``a/b.txt``): relative, no ``..``, ``/``-separated.

    Backslashes are taken as separators (a name written on Windows). Raises
    :class:`~headwater.errors.PathEscapeError` for names that would leave the artifacts folder.
    """
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"An artifact name must be a non-empty string, got {name!r}")
    text = name.replace("\\", "/")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if text.startswith("/") or (len(text) > 1 and text[1] == ":") or ".." in parts or not parts:
        raise PathEscapeError(name, "the run's artifacts folder")
    return "/".join(parts)


def _is_str_map(value: object, *, nullable: bool) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and (isinstance(v, str) or (nullable and v is None)) for k, v in value.items()
    )


def event_problem(event: object) -> str | None:
    """What is wrong with ``event`` (a decoded JSON line), or None when it is a valid event."""
    if not isinstance(event, dict):
        return f"an event must be a JSON object, got {type(event).__name__}"
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        return f"unknown event type {kind!r} (known: {', '.join(EVENT_TYPES)})"
    target = event.get("run", "self")
    if target not in RUN_TARGETS:
        return f"{kind} event: 'run' must be 'self' or 'parent', got {target!r}"
    if not isinstance(event.get("t", ""), str):
        return f"{kind} event: 't' must be a string"
    if kind == "metric":
        name = event.get("name")
        if not isinstance(name, str) or not name:
            return f"metric event: 'name' must be a non-empty string, got {name!r}"
        if event.get("kind") not in METRIC_KINDS:
            kinds = ", ".join(METRIC_KINDS)
            return f"metric {name!r}: 'kind' must be one of {kinds}, got {event.get('kind')!r}"
        if "value" not in event:
            return f"metric {name!r}: no 'value'"
        description = event.get("description")
        if description is not None and not isinstance(description, str):
            return f"metric {name!r}: 'description' must be a string"
        return None
    if kind == "tags":
        if _is_str_map(event.get("tags"), nullable=True):
            return None
        return "tags event: 'tags' must map strings to strings or null"
    if kind == "remove_tags":
        keys = event.get("keys")
        ok = isinstance(keys, list) and all(isinstance(k, str) for k in keys)
        return None if ok else "remove_tags event: 'keys' must be a list of strings"
    if kind == "properties":
        if _is_str_map(event.get("properties"), nullable=False):
            return None
        return "properties event: 'properties' must map strings to strings"
    # file
    if target != "self":
        return "file event: files can only be recorded for the step run itself ('run': 'self')"
    name, path = event.get("name"), event.get("path")
    try:
        expected = f"{ARTIFACTS_DIR}/{artifact_name(name)}"
    except (TypeError, PathEscapeError) as exc:
        return f"file event: bad artifact name: {exc}"
    if path != expected:
        return f"file event for {name!r}: 'path' must be {expected!r}, got {path!r}"
    return None
