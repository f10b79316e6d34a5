"""Mini-batch claims in a ParallelRunStep's progress folder (stdlib only).

Several drivers of one step (one per node of a cluster) share the step's progress folder; before
scoring a mini-batch a driver claims it by creating ``claims/<index>`` with ``O_CREAT | O_EXCL``,
which succeeds for exactly one of them (on a local filesystem and on NFSv3+), so every mini-batch
is scored once. The file holds the claimer's name (its node), for the logs and the summary.
The step's driver holds the whole folder with :func:`lock_progress`.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["CLAIMS_DIR", "LOCK_FILE", "claim", "claims", "lock_progress"]

CLAIMS_DIR = "claims"
#: The file of a progress folder a running driver holds locked (``flock``) for its whole life.
LOCK_FILE = "lock"


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


def lock_progress(folder: str) -> Any | None:
    """Lock the progress ``folder`` for this driver's life: its open ``lock`` file (keep it open), or
    None when another live driver holds it.

    ``headwater gc`` may remove the folder meanwhile (it renames it aside while holding the lock):
    a driver that opened the old ``lock`` before that and locked it after gc let go would hold a
    lock on a removed file, and a second driver could lock the new one. So after locking, the lock
    file must still be the one at ``folder/lock`` (same inode); if not, start again.
    """
    import fcntl

    path = os.path.join(folder, LOCK_FILE)
    while True:
        os.makedirs(folder, exist_ok=True)
        try:
            lock = open(path, "a+b")  # noqa: SIM115 - the caller keeps it open
        except FileNotFoundError:  # gc renamed the folder between makedirs and open
            continue
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            return None
        try:
            same = os.stat(path).st_ino == os.fstat(lock.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return lock
        lock.close()  # locked a lock file gc removed with its folder: take the new folder's
