"""``headwater env list|show|build|prune``: registered environments and the ones built for them.

Built environments live under ``<workspace>/environments/<digest>/`` (see
:mod:`headwater.engine.environments`); an environment is found by name (``NAME`` or
``NAME:VERSION``, curated ``AzureML-*`` names included) or, for ``show``, by the digest (or a
unique prefix of it) of a built one. ``build`` streams uv's output to stderr and prints only the
interpreter on stdout, so ``$(headwater env build train-env)`` is the Python to use.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from headwater.cli import output
from headwater.cli.workspace import json_option, open_workspace, workspace_options

if TYPE_CHECKING:
    from headwater.sdk.environment import Environment
    from headwater.sdk.workspace import Workspace

__all__ = ["env"]

_HEX = re.compile(r"^[0-9a-f]{4,64}$")
_SHORT = 12


@click.group("env")
def env() -> None:
    """List, inspect, build and prune step environments."""


# -- helpers -----------------------------------------------------------------------------------------


def environments_root(ws: Workspace) -> Path:
    """Where the workspace's built environments live (the folder the engine builds into)."""
    from headwater.layout import WorkspaceLayout

    return WorkspaceLayout(ws.folder).environments


def _digest(environment: Environment) -> str:
    from headwater.plan.environments import environment_digest

    return environment_digest(environment.to_spec())


def environments_to_keep(ws: Workspace) -> set[str]:
    """The digests of the built environments ``prune`` keeps: registered (latest) and curated ones."""
    from headwater.sdk.curated_environments import CURATED_ENVIRONMENTS
    from headwater.sdk.environment import Environment

    keep = {_digest(e) for e in ws.environments.values()}
    return keep | {_digest(Environment.get(ws, name)) for name in CURATED_ENVIRONMENTS}


def _size(folder: Path) -> int:
    """Bytes under ``folder`` (files and links as they are, not followed)."""
    total = 0
    for base, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(base, name)).st_size
            except OSError:
                pass
    return total


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"  # unreachable: the loop returns at GiB


def _built(root: Path) -> dict[str, dict[str, Any]]:
    """Every complete built environment under ``root``, by digest, with what its marker records."""
    from headwater.engine.environments import MARKER, list_environments

    found: dict[str, dict[str, Any]] = {}
    for built in list_environments(root):
        assert built.path is not None  # listed environments are folders
        try:
            record = json.loads((built.path / MARKER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = {}
        found[built.digest] = {
            "digest": built.digest,
            "path": str(built.path),
            "interpreter": built.interpreter,
            "python": str((record.get("python") or {}).get("version") or "-"),
            "packages": len(built.lock),
            "size_bytes": _size(built.path),
            "lock": built.lock,
            "notices": built.notices,
            "spec": record.get("spec") or {},
        }
    return found


def _split(ref: str) -> tuple[str, str | None]:
    name, sep, version = ref.rpartition(":")
    return (name, version) if sep and name and version else (ref, None)


def _by_prefix(prefix: str, digests: list[str], what: str) -> str:
    """The one digest starting with ``prefix``; an error naming the candidates otherwise."""
    from headwater.errors import ConfigurationError, NotFoundError

    matches = sorted({d for d in digests if d.startswith(prefix)})
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFoundError(what, prefix, hint="`headwater env list` shows the digests.")
    shown = ", ".join(m[:_SHORT] for m in matches[:5])
    raise ConfigurationError(
        f"Digest prefix {prefix!r} matches {len(matches)} environments ({shown})",
        hint="Give more characters of the digest.",
    )


def _current(spec: dict[str, Any]) -> dict[str, Any]:
    """Whether the running Python satisfies ``spec`` (an unusable interpreter_path is reported, not raised)."""
    from headwater.errors import EnvironmentBuildError
    from headwater.plan.environments import check_current_interpreter

    try:
        resolution = check_current_interpreter(spec)
    except EnvironmentBuildError as exc:
        return {"satisfied": False, "interpreter": None, "missing": [], "notices": [], "error": str(exc)}
    return {
        "satisfied": resolution.satisfied,
        "interpreter": resolution.interpreter,
        "missing": resolution.missing,
        "notices": resolution.notices,
        "error": None,
    }


# -- list --------------------------------------------------------------------------------------------


@env.command("list")
@workspace_options
@json_option
def list_cmd(workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """List registered environments (latest versions) and the environments built in the workspace."""
    with open_workspace(workspace_name, folder) as ws:
        registered = list(ws.environments.values())
        root = environments_root(ws)
    built = _built(root)
    names: dict[str, list[str]] = {}
    rows: list[dict[str, Any]] = []
    for environment in registered:
        digest = _digest(environment)
        names.setdefault(digest, []).append(str(environment.name))
        current = _current(environment.to_spec())["satisfied"]
        state = "built" if digest in built else "current python" if current else "not built"
        rows.append({"name": environment.name, "version": environment.version, "digest": digest, "state": state})
    built_rows = [
        {**{k: v for k, v in b.items() if k not in ("lock", "spec", "notices")}, "used_by": names.get(d, [])}
        for d, b in built.items()
    ]
    if as_json:
        output.emit_json({"registered": rows, "built": built_rows})
        return
    output.table(
        ["name", "version", "digest", "state"],
        [[str(r["name"]), str(r["version"]), r["digest"][:_SHORT], r["state"]] for r in rows],
        title="Registered environments",
    )
    output.echo()
    output.table(
        ["digest", "python", "packages", "size", "used by"],
        [
            [
                b["digest"][:_SHORT],
                b["python"],
                str(b["packages"]),
                _human(b["size_bytes"]),
                ", ".join(b["used_by"]) or "-",
            ]
            for b in built_rows
        ],
        title=f"Built environments in {root}",
    )


# -- show --------------------------------------------------------------------------------------------


def _find(ws: Workspace, ref: str, built: dict[str, dict[str, Any]]) -> tuple[str | None, str | None, dict[str, Any]]:
    """``(name, version, spec)`` of ``NAME[:VERSION]``, or of a built environment's digest (prefix)."""
    from headwater.errors import NotFoundError
    from headwater.sdk.environment import Environment

    name, version = _split(ref)
    try:
        environment = Environment.get(ws, name, version)
    except NotFoundError:
        if not _HEX.match(ref):
            raise
        digest = _by_prefix(ref, list(built), "Environment (or built environment digest)")
        spec = built[digest]["spec"]  # the name and version it was first built for
        return spec.get("name"), spec.get("version"), spec
    return environment.name, environment.version, environment.to_spec()


@env.command("show")
@click.argument("ref", metavar="NAME[:VERSION]|DIGEST")
@workspace_options
@json_option
def show_cmd(ref: str, workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """Show an environment: its packages, digest, and whether it is the running Python or built."""
    from headwater.plan.environments import environment_digest, normalize_spec

    with open_workspace(workspace_name, folder) as ws:
        root = environments_root(ws)
        built = _built(root)
        name, version, spec = _find(ws, ref, built)
    spec = normalize_spec(spec)
    digest = environment_digest(spec)
    current = _current(spec)
    here = built.get(digest)
    data = {
        "name": name,
        "version": version,
        "digest": digest,
        "spec": spec,
        "current_interpreter": current,
        "built": None if here is None else {k: v for k, v in here.items() if k not in ("spec", "digest")},
    }
    if as_json:
        output.emit_json(data)
        return
    if current["error"]:
        running = f"unusable: {current['error']}"
    elif current["satisfied"]:
        running = f"satisfies it ({current['interpreter']})"
    else:
        running = "lacks " + ", ".join(current["missing"])
    output.fields(
        [
            ("name", name or "-"),
            ("version", version or "-"),
            ("digest", digest),
            ("python version", spec["python_version"] or "any"),
            ("pip packages", ", ".join(spec["pip_packages"]) or "-"),
            ("conda packages", ", ".join(spec["conda_packages"]) or "-"),
            ("environment variables", ", ".join(f"{k}={v}" for k, v in spec["environment_variables"].items()) or "-"),
            ("user managed", "yes" if spec["user_managed_dependencies"] else "no"),
            ("running python", running),
            ("built", "no" if here is None else here["path"]),
            *(
                ()
                if here is None
                else (
                    ("built python", here["python"]),
                    ("interpreter", here["interpreter"]),
                    ("packages", str(here["packages"])),
                    ("size", _human(here["size_bytes"])),
                )
            ),
        ]
    )
    if here is not None and here["lock"]:
        output.echo()
        for package, pinned in here["lock"].items():
            output.echo(f"{package}=={pinned}" if not pinned.startswith(("http", "file:")) else f"{package} @ {pinned}")


# -- build -------------------------------------------------------------------------------------------


@env.command("build")
@click.argument("ref", metavar="NAME[:VERSION]", required=False)
@click.option("--curated", metavar="NAME", help="A curated environment (AzureML-...) instead of a registered one.")
@click.option(
    "--strict-python",
    is_flag=True,
    help="Fail when no interpreter matches the pinned Python version (default: the workspace's setting).",
)
@workspace_options
def build_cmd(
    ref: str | None, curated: str | None, strict_python: bool, workspace_name: str | None, folder: str | None
) -> None:
    """Build an environment now (uv's output on stderr); print its interpreter."""
    from headwater.engine.environments import ensure_environment
    from headwater.errors import NotFoundError
    from headwater.sdk.curated_environments import CURATED_ENVIRONMENTS
    from headwater.sdk.environment import Environment

    if (ref is None) == (curated is None):
        raise click.UsageError("Give NAME[:VERSION] or --curated NAME (one of them).")
    with open_workspace(workspace_name, folder) as ws:
        if curated is not None:
            if curated not in CURATED_ENVIRONMENTS:
                raise NotFoundError("Curated environment", curated, candidates=CURATED_ENVIRONMENTS)
            environment = Environment.get(ws, curated)
        else:
            assert ref is not None
            environment = Environment.get(ws, *_split(ref))
        root = environments_root(ws)
        strict = strict_python or ws.strict_python
    built = ensure_environment(environment.to_spec(), root, log=sys.stderr, strict_python=strict)
    if built.path is None:
        output.echo(f"The running Python satisfies {environment.name!r}: nothing to build.", err=True)
    output.echo(built.interpreter)


# -- prune -------------------------------------------------------------------------------------------


@env.command("prune")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@click.option("--keep", "keep_digests", multiple=True, metavar="DIGEST", help="Also keep this one (repeatable).")
@click.option(
    "--include-recent",
    is_flag=True,
    help="Also remove environments a step started with in the last 6 hours (one may still be running).",
)
@workspace_options
def prune_cmd(
    dry_run: bool, keep_digests: tuple[str, ...], include_recent: bool, workspace_name: str | None, folder: str | None
) -> None:
    """Remove built environments that no registered (latest) or curated environment needs.

    An environment a step started with in the last 6 hours is kept (the step may still be
    running) unless --include-recent.
    """
    from headwater.engine.environments import RECENT_USE_SECONDS, last_used, prune

    with open_workspace(workspace_name, folder) as ws:
        keep = environments_to_keep(ws)
        root = environments_root(ws)
    built = _built(root)
    for given in keep_digests:
        keep.add(given if len(given) == 64 else _by_prefix(given, list(built), "Built environment with digest"))
    unused_for = 0.0 if include_recent else float(RECENT_USE_SECONDS)
    recent = {d for d in built if time.time() - last_used(root / d) < unused_for}
    doomed = [b for d, b in built.items() if d not in keep and d not in recent]
    for d in sorted(recent - keep):
        output.echo(f"Keeping {d[:_SHORT]}: a step started with it in the last {RECENT_USE_SECONDS // 3600} hours")
    if dry_run:
        for b in doomed:
            output.echo(f"Would remove {b['digest'][:_SHORT]} ({b['packages']} packages, {_human(b['size_bytes'])})")
        freed = sum(b["size_bytes"] for b in doomed)
        output.echo(f"Would remove {len(doomed)} environment(s), {_human(freed)}; keeping {len(built) - len(doomed)}.")
        return
    removed = prune(root, keep, unused_for=unused_for)
    for digest in removed:
        size = _human(built[digest]["size_bytes"]) if digest in built else "-"
        output.echo(f"Removed {digest[:_SHORT]} ({size})")
    freed = sum(built[d]["size_bytes"] for d in removed if d in built)
    output.echo(f"Removed {len(removed)} environment(s), {_human(freed)}; kept {len(built) - len(removed)}.")
