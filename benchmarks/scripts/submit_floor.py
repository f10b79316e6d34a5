"""Floor for submit latency: start the step as a plain process, after copying its source folder when cold.

``submit_floor.py SOURCE_DIR STEP_ARGS... [--copy-to DIR]``: appends ``submit call <time>`` to
``$BENCH_LEDGER``, copies SOURCE_DIR to DIR when ``--copy-to`` is given (the least a snapshot
does), then runs ``step.py`` from it with this interpreter and waits.
"""

import os
import shutil
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    copy_to = None
    if "--copy-to" in argv:
        k = argv.index("--copy-to")
        copy_to = argv[k + 1]
        argv = argv[:k] + argv[k + 2 :]
    source, step_args = argv[0], argv[1:]
    with open(os.environ["BENCH_LEDGER"], "a", encoding="utf-8") as f:
        f.write(f"submit call {time.time():.6f}\n")
    if copy_to is not None:
        shutil.copytree(source, copy_to)
        source = copy_to
    return subprocess.run([sys.executable, os.path.join(source, "step.py"), *step_args], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
