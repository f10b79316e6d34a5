"""The worker side of a step shipped to a Ray cluster without a shared filesystem.

The orchestrator (:mod:`headwater.engine.ship`) hands the Ray task a *payload*: where the
snapshot tar is, the datastores to open (with their secret references, and the values of the
workspace-file secrets, which the worker cannot read), the files of each input and where each
output goes. On the worker, :class:`ShippedStep` makes a fresh temporary folder laid out like a
run folder::

    <tmp>/wd/                    the snapshot tar, extracted (the step's working directory)
    <tmp>/inputs/<name>/         each input, downloaded
    <tmp>/staging/<output>/      what the step writes as its outputs
    <tmp>/user_logs/std_log.txt  its stdout and stderr (the task's log path, rewritten, when it is in the run folder)
    <tmp>/events.jsonl           its metrics and tags (the runtime writes them)
    <tmp>/context.json           its context file

and rewrites the task's argv, environment and context file from the orchestrator's run folder to
this one (a plain prefix replacement: the run folder is a unique absolute path), from the
orchestrator's Python to the worker's own (the default environment) and from the orchestrator's
installed Headwater package to the worker's. While the step runs, :meth:`ShippedStep.chunks`
returns what its log and events file gained since the last call; when it succeeded,
:meth:`ShippedStep.commit` commits each output to its datastore with
:func:`~headwater.engine.outputs.commit_output` (the same uploads as a local run's) and returns
the outputs' digests. Nothing is uploaded otherwise. :meth:`ShippedStep.cleanup` removes the folder.

This module never imports ``ray``: the Ray task body in
:mod:`headwater.engine.executors.ray_executor` drives it.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from headwater._paths import PACKAGE_DIR
from headwater.errors import ConfigurationError, DataAccessError
from headwater.graph.spec import OutputSpec
from headwater.layout import WORKDIR_FOLDERS, RunLayout
from headwater.plan.digests import NULL_CACHE
from headwater.runtime.context import StepContext
from headwater.store.datastores import DatastoreBackend
from headwater.store.records import DatastoreRecord
from headwater.store.secrets import ENV_PREFIX, resolve_secret

__all__ = ["ShippedStep", "open_backend"]

#: The largest piece of a step's log sent back at once (memory on the worker and in flight stays bounded).
LOG_PIECE_BYTES = 4 * 1024 * 1024


def open_backend(datastore: dict[str, Any]) -> DatastoreBackend:
    """The backend of a shipped datastore: ``{"name", "kind", "config", "secrets"}``.

    ``env:`` credential references are resolved here, on the worker (the variable must be set
    in the worker's environment); other references come resolved in ``secrets``.
    """
    from headwater.store.remote import from_record

    name, kind = datastore["name"], datastore["kind"]
    given: dict[str, str] = datastore.get("secrets") or {}

    def resolve(key: str, ref: str) -> str | None:
        if ref.startswith(ENV_PREFIX):
            return resolve_secret(ref, ".", what=f"{key.replace('_', ' ')} of datastore {name!r} (on the Ray worker)")
        return given.get(key)

    backend = from_record(DatastoreRecord(name, kind, datastore["config"]), resolve)
    if backend is not None:
        return backend
    raise ConfigurationError(
        f"Datastore {name!r} (kind {kind!r}) cannot be used on a Ray worker without a shared filesystem",
        hint="Use an Azure Blob or S3 datastore for steps shipped to the cluster.",
    )


class ShippedStep:
    """One shipped step on the worker: its folder, its data in and out, its log and events."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.root = Path(tempfile.mkdtemp(prefix="hw-ship-"))
        self.log = RunLayout(self.root).std_log
        self.events = RunLayout(self.root).events_file
        self._offsets = {"log": 0, "events": 0}
        self._backends: dict[str, DatastoreBackend] = {}

    # -- paths ---------------------------------------------------------------------------------

    def rewrite(self, text: str) -> str:
        """``text`` with the orchestrator's run folder, Python and Headwater package replaced by the worker's."""
        p = self.payload
        text = text.replace(p["run_dir"], str(self.root))
        if p["python"] != sys.executable:
            text = text.replace(p["python"], sys.executable)
        if p["package_dir"] != str(PACKAGE_DIR):
            text = text.replace(p["package_dir"], str(PACKAGE_DIR))
        return text

    def backend(self, name: str) -> DatastoreBackend:
        if name not in self._backends:
            self._backends[name] = open_backend(self.payload["datastores"][name])
        return self._backends[name]

    # -- before the step -----------------------------------------------------------------------

    def prepare(
        self, argv: list[str], cwd: str, env: dict[str, str], log_path: str
    ) -> tuple[list[str], str, dict[str, str], str]:
        """Fetch the snapshot and the inputs, write the context file; return the rewritten argv,
        cwd, environment and log path. Raises HeadwaterError or OSError saying what failed."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log.touch()
        self._fetch_snapshot()
        for item in self.payload["inputs"]:
            self._fetch_input(item)
        for out in self.payload["outputs"]:
            RunLayout(self.root).staged_output(out["name"]).mkdir(parents=True, exist_ok=True)
        context = RunLayout(self.root).context_file  # the orchestrator's, read back and written the one way
        StepContext.from_dict(json.loads(self.rewrite(self.payload["context"])), source=str(context)).write(context)
        argv = [self.rewrite(a) for a in argv]
        if os.path.isabs(argv[0]) and not Path(argv[0]).exists():
            raise ConfigurationError(
                f"the step's interpreter {argv[0]!r} does not exist on the Ray worker: environments are not "
                "built on Ray workers yet",
                hint="Run the step in the default environment, or install that interpreter at the same path "
                "on the cluster's nodes.",
            )
        log_path = self.rewrite(log_path)
        if Path(log_path).is_relative_to(self.root):  # else the orchestrator's path: not on this host
            self.log = Path(log_path)
            self.log.parent.mkdir(parents=True, exist_ok=True)
            self.log.touch()
        return argv, self.rewrite(cwd), {k: self.rewrite(v) for k, v in env.items()}, str(self.log)

    def _fetch_snapshot(self) -> None:
        snap = self.payload["snapshot"]
        data = io.BytesIO()
        backend = self.backend(snap["datastore"])
        with backend.open(snap["path"], "rb") as fh:
            shutil.copyfileobj(fh, data)
        data.seek(0)
        workdir = RunLayout(self.root).workdir
        workdir.mkdir()
        with tarfile.open(fileobj=data, mode="r") as tar:
            tar.extractall(workdir, filter="data")
        for sub in WORKDIR_FOLDERS:
            (workdir / sub).mkdir(exist_ok=True)

    def _fetch_input(self, item: dict[str, Any]) -> None:
        dest = self.root / item["dest"]
        dest.mkdir(parents=True, exist_ok=True)
        pairs = [(remote, dest / local) for remote, local in item["files"]]
        try:
            self.backend(item["datastore"]).get_files(pairs, overwrite=True)
        except FileNotFoundError as exc:
            raise DataAccessError(
                f"A file of input {item['name']!r} (datastore {item['datastore']!r}) disappeared before the step "
                f"could read it: {exc}.",
                hint="Retry once the data stops changing.",
            ) from exc

    # -- while it runs -------------------------------------------------------------------------

    def chunks(self) -> Iterator[dict[str, bytes]]:
        """What the log and the events file gained since the last call: ``{"log": b}``, ``{"events": b}``.

        The log goes in pieces of at most :data:`LOG_PIECE_BYTES` (a capped log's tail arrives at
        once when the step ends). Events are cut at their last complete line, so the orchestrator
        never ingests half a line.
        """
        for kind, path in (("log", self.log), ("events", self.events)):
            try:
                fh = open(path, "rb")  # noqa: SIM115  (closed by the with below)
            except FileNotFoundError:
                continue
            with fh:
                fh.seek(self._offsets[kind])
                while True:
                    data = fh.read(LOG_PIECE_BYTES) if kind == "log" else fh.read()
                    if kind == "events":
                        data = data[: data.rfind(b"\n") + 1]
                    if not data:
                        break
                    self._offsets[kind] += len(data)
                    yield {kind: data}
                    if kind == "events":
                        break

    def note(self, text: str) -> None:
        """Append a ``[headwater]`` line to the step's log (sent with the next chunks)."""
        with open(self.log, "a", encoding="utf-8") as fh:
            fh.write(f"[headwater] {text}\n")

    # -- after it succeeded --------------------------------------------------------------------

    def commit(self) -> dict[str, str]:
        """Commit each staged output to its datastore; return output name -> content digest."""
        from headwater.engine import outputs as engine_outputs

        digests: dict[str, str] = {}
        for out in self.payload["outputs"]:  # a link leading out of any output: none of them is committed
            engine_outputs.check_output(RunLayout(self.root).staged_output(out["name"]), out["name"])
        for out in self.payload["outputs"]:
            staged = RunLayout(self.root).staged_output(out["name"])
            staged.mkdir(parents=True, exist_ok=True)
            backend = self.backend(out["datastore"])
            if out.get("spec"):
                engine_outputs.apply_upload_options(OutputSpec(**out["spec"]), staged, backend, out["path"])
            digests[out["name"]] = engine_outputs.output_digest(staged, NULL_CACHE)
            engine_outputs.commit_output(staged, backend, out["path"])
        return digests

    def artifacts(self) -> bytes | None:
        """A tar of the working directory's ``outputs/`` and ``logs/`` (None when both are empty):
        they come back to the run folder, where ``run.get_file_names()`` lists them."""
        workdir = RunLayout(self.root).workdir
        members = [workdir / sub for sub in WORKDIR_FOLDERS if (workdir / sub).is_dir()]
        members = [folder for folder in members if any(folder.iterdir())]
        if not members:
            return None
        data = io.BytesIO()
        with tarfile.open(fileobj=data, mode="w") as tar:
            for folder in members:
                tar.add(folder, arcname=folder.name)
        return data.getvalue()

    def cleanup(self) -> None:
        for backend in self._backends.values():
            try:
                backend.close()
            except Exception:  # closing is best effort; the folder goes anyway
                pass
        shutil.rmtree(self.root, ignore_errors=True)
