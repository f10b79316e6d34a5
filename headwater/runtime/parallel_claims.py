"""Mini-batch claims in a ParallelRunStep's progress folder (stdlib only).

Several drivers of one step (one per node of a cluster) share the step's progress folder; before
scoring a mini-batch a driver claims it by creating ``claims/<index>`` with ``O_CREAT | O_EXCL``,
which succeeds for exactly one of them (on a local filesystem and on NFSv3+), so every mini-batch
is scored once. The file holds the claimer's name (its node), for the logs and the summary.
"""

from __future__ import annotations

import os

__all__ = ["CLAIMS_DIR", "claim", "claims"]

CLAIMS_DIR = "claims"


def claim(progress: str, index: int, owner: str) -> bool:
    """Claim mini-batch ``index`` for ``owner``; False when another driver claimed it first."""
    folder = os.path.join(progress, CLAIMS_DIR)
    os.makedirs(folder, exist_ok=True)
    try:
        fd = os.open(os.path.join(folder, str(index)), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    try:
        os.write(fd, owner.encode("utf-8"))
    finally:
        os.close(fd)
    return True


def claims(progress: str) -> dict[int, str]:
    """Every claimed mini-batch and who claimed it."""
    folder = os.path.join(progress, CLAIMS_DIR)
    out: dict[int, str] = {}
    for name in os.listdir(folder) if os.path.isdir(folder) else ():
        if name.isdigit():
            with open(os.path.join(folder, name), encoding="utf-8") as fh:
                out[int(name)] = fh.read()
    return out
