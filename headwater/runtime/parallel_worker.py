"""One ParallelRunStep worker process: import the entry script, ``init()`` once, ``run()`` per
mini-batch the driver sends, ``shutdown()`` at the end (stdlib only; pandas/pyarrow for tabular
mini-batches, which the step environment has then).

The driver talks to it with JSON lines over two pipes (``--commands`` / ``--replies`` file
descriptors), or, when the worker was forked by the worker server
(:mod:`headwater.runtime.parallel_warm`), over a socket it connects to; the worker's stdout and
stderr are its per-process user logs. A mini-batch's
returned elements go to ``<progress>/rows/<index>.txt`` (``append_row``; written then renamed)
before the worker replies, so a finished mini-batch survives the driver.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import sys
import traceback
from typing import Any

__all__ = ["MiniBatchContext", "main"]


class MiniBatchContext:
    """What ``run(mini_batch, mini_batch_context)`` receives (SDK v1's attributes)."""

    def __init__(self, partition_key_value: Any, dataset: Any, minibatch_index: int) -> None:
        self.partition_key_value = partition_key_value
        self.dataset = dataset
        self.minibatch_index = minibatch_index

    def __repr__(self) -> str:
        return (
            f"MiniBatchContext(partition_key_value={self.partition_key_value!r}, "
            f"minibatch_index={self.minibatch_index})"
        )


def _load(entry: str) -> Any:
    name = os.path.splitext(os.path.basename(entry))[0]
    spec = importlib.util.spec_from_file_location(name, os.path.abspath(entry))
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import the entry script {entry!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)):
        raise AttributeError(f"the entry script {entry!r} has no run(mini_batch) function")
    return module


def _takes_context(run: Any) -> bool:
    try:
        params = [
            p
            for p in inspect.signature(run).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        ]
    except (TypeError, ValueError):
        return False
    return len(params) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)


def _rows(result: Any) -> tuple[str, int]:
    """The text of the returned elements, one line each, and their number: list items as ``str``;
    DataFrame rows space-separated, as SDK v1 writes them."""
    if result is None:
        return "", 0
    if hasattr(result, "to_csv") and hasattr(result, "columns"):
        return result.to_csv(header=False, index=False, sep=" "), len(result)
    items = [result] if isinstance(result, (str, bytes)) else list(result)
    lines = [(i.decode() if isinstance(i, bytes) else str(i)).replace("\n", " ") for i in items]
    return "".join(line + "\n" for line in lines), len(lines)


def _write_rows(progress: str, index: int, text: str) -> None:
    path = os.path.join(progress, "rows", f"{index}.txt")
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _mini_batch(batch: dict[str, Any], readers: dict[str, Any]) -> Any:
    if batch["kind"] == "file":
        return list(batch["items"])
    from headwater.runtime.parallel_read import read_tabular

    return read_tabular(batch["items"], readers.get(batch.get("input") or "", {}), batch.get("partition"))


def _serve(module: Any, args: dict[str, Any], commands: Any, replies: Any) -> None:
    run = module.run
    with_context = _takes_context(run)
    append = args["output_action"] == "append_row"
    for line in commands:
        message = json.loads(line)
        if message.get("stop"):
            return
        batch = message["batch"]
        size = None
        try:
            data = _mini_batch(batch, args.get("readers") or {})
            size = len(data)
            if with_context:
                context = MiniBatchContext(batch.get("partition") or {}, batch.get("dataset"), batch["index"])
                result = run(data, context)
            else:
                result = run(data)
            text, returned = _rows(result)
            if append:
                _write_rows(args["progress"], batch["index"], text)
            reply = {"index": batch["index"], "ok": True, "items": size, "returned": returned}
        except Exception as exc:
            sys.stderr.write(traceback.format_exc())
            sys.stderr.flush()
            reply = {
                "index": batch["index"],
                "ok": False,
                "error": f"{type(exc).__name__}: {exc}",
                "items": size,
                "traceback": traceback.format_exc(),
            }
        sys.stdout.flush()
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def _forked(argv: list[str]) -> tuple[Any, Any, str]:
    """A forked worker's streams as a fresh one has them: the driver's commands and replies over the
    socket it names, stderr to its own log (the server gave stdout's to both), ``sys.path[0]`` the
    working folder (as ``python -m`` sets it), not this file's."""
    from headwater.runtime.parallel_warm import connect_back

    sock = connect_back(argv[0][1:])
    err = os.open(argv[2], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(err, 2)
    os.close(err)
    if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
        sys.path[0] = os.getcwd()
    return sock.makefile("r", encoding="utf-8"), sock.makefile("w", encoding="utf-8"), argv[1]


def main(argv: list[str]) -> int:
    """``parallel_worker <commands fd> <replies fd> <settings JSON file>``, or, forked by the worker
    server (:mod:`headwater.runtime.parallel_warm`), ``parallel_worker @<driver's socket> <settings
    JSON file> <stderr log>``."""
    if argv[0].startswith("@"):
        commands, replies, settings = _forked(argv)
    else:
        commands = os.fdopen(int(argv[0]), "r", encoding="utf-8")
        replies = os.fdopen(int(argv[1]), "w", encoding="utf-8")
        settings = argv[2]
    with open(settings, encoding="utf-8") as fh:
        args = json.load(fh)
    sys.argv = [args["entry_script"], *args["argv"]]
    sys.path.insert(0, os.getcwd())  # the source directory; and the entry script's folder, for its neighbours
    folder = os.path.dirname(os.path.abspath(args["entry_script"]))
    if folder != os.getcwd():
        sys.path.insert(0, folder)
    try:
        module = _load(args["entry_script"])
        init = getattr(module, "init", None)
        if callable(init):
            init()
    except BaseException as exc:
        sys.stderr.write(traceback.format_exc())
        replies.write(
            json.dumps({"init_error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}) + "\n"
        )
        replies.flush()
        return 1
    replies.write(json.dumps({"ready": True}) + "\n")
    replies.flush()
    _serve(module, args, commands, replies)
    shutdown = getattr(module, "shutdown", None)
    if callable(shutdown):
        shutdown()
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
