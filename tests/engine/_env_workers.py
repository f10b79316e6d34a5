"""Functions run in spawned processes by tests/engine/test_environments_build.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from headwater.engine.environments import ensure_environment


def ensure(spec: dict[str, Any], root: str, barrier: Any, out: str) -> None:
    """Wait for the other workers, ensure the environment, write what came back to ``out``."""
    barrier.wait()
    with Path(out).with_suffix(".log").open("w", encoding="utf-8") as log:
        built = ensure_environment(spec, Path(root), log=log)
    Path(out).write_text(
        json.dumps({"reused": built.reused, "interpreter": built.interpreter, "lock": built.lock}), encoding="utf-8"
    )
