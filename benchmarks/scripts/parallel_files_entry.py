"""The trivial entry script of the small-files benchmark: one line per file, its name and size.

As a ParallelRunStep entry script (``run(mini_batch)``), or run by ``xargs -P 2 -n 10`` as
``python parallel_files_entry.py FILE...`` (the floor), printing the same lines.
"""

import os
import sys


def init():
    pass


def run(mini_batch):
    return [f"{os.path.basename(p)} {os.path.getsize(p)}" for p in mini_batch]


if __name__ == "__main__":
    init()
    sys.stdout.write("".join(line + "\n" for line in run(sys.argv[1:])))
