"""The studio's one Jinja2 environment (templates from this package, autoescape on) and :func:`render`."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

if TYPE_CHECKING:
    import jinja2

__all__ = ["NAV", "STATIC_DIR", "TEMPLATES_DIR", "environment", "render", "script_json", "url_with"]

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

#: The navigation bar: (label, path). Pages a helper has not built yet answer 404.
NAV: tuple[tuple[str, str], ...] = (
    ("Runs", "/studio/"),
    ("Experiments", "/studio/experiments"),
    ("Datasets", "/studio/datasets"),
    ("Pipelines", "/studio/pipelines"),
    ("Endpoints", "/studio/endpoints"),
    ("Schedules", "/studio/schedules"),
    ("Data drift", "/studio/drift"),
    ("Compute", "/studio/compute"),
    ("Environments", "/studio/environments"),
)


def url_with(base: str, params: dict[str, Any], **changes: Any) -> str:
    """``base`` with the query ``params`` updated by ``changes`` (None or "" drops a key)."""
    merged = {**params, **changes}
    query = urlencode([(k, v) for k, v in merged.items() if v is not None and v != ""], doseq=True)
    return f"{base}?{query}" if query else base


def script_json(value: Any) -> Any:
    """``value`` as JSON safe to put inside ``<script type="application/json">`` (a ``Markup``)."""
    import json

    from markupsafe import Markup

    text = json.dumps(value, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _duration(start: str | None, end: str | None) -> str:
    from datetime import UTC, datetime

    if not start:
        return ""
    try:
        t0 = datetime.fromisoformat(start)
        t1 = datetime.fromisoformat(end) if end else datetime.now(UTC)
    except ValueError:
        return ""
    seconds = max(0.0, (t1 - t0).total_seconds())
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _when(value: str | None) -> str:
    """An ISO timestamp shortened for a table: ``2026-12-07 21:46:47`` (UTC)."""
    if not value:
        return ""
    return value.replace("T", " ")[:19]


@cache
def environment() -> jinja2.Environment:
    """The studio's Jinja2 environment (made once per process)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals.update(nav=NAV, url_with=url_with)
    env.filters["script_json"] = script_json
    env.filters.update(duration=_duration, when=_when)
    return env


def render(request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    """The template ``name`` rendered with ``ctx`` (plus ``request``, ``ws_name`` and ``path``)."""
    template = environment().get_template(name)
    html = template.render(request=request, ws_name=request.app.state.ws_name, path=request.url.path, **ctx)
    return HTMLResponse(html, status_code=status_code)
