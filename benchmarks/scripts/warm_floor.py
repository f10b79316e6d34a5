"""The floor of a warm step start: a fresh interpreter running the same ``ds_step.py``.

Appends ``ds launched <unix time>`` to ``$BENCH_LEDGER`` just before it starts the interpreter.
"""

import os
import subprocess
import sys
import time

with open(os.environ["BENCH_LEDGER"], "a", encoding="utf-8") as ledger:
    ledger.write(f"ds launched {time.time():.6f}\n")
sys.exit(subprocess.run([sys.executable, sys.argv[1]], check=False).returncode)
