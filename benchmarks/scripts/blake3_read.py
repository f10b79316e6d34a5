"""Floor for bigdata cold: read every file of the dataset and BLAKE3 it (``blake3_read.py DIR``).

One hasher per file, 1 MiB reads into a reused buffer: the plain way to digest each file.
"""

import os
import sys

import blake3


def main(root: str) -> None:
    buffer = bytearray(1 << 20)
    view = memoryview(buffer)
    digests = {}
    for folder, _dirs, files in os.walk(root):
        for name in sorted(files):
            path = os.path.join(folder, name)
            hasher = blake3.blake3()
            with open(path, "rb", buffering=0) as f:
                while n := f.readinto(view):
                    hasher.update(view[:n])
            digests[path] = hasher.hexdigest()
    print(len(digests))


if __name__ == "__main__":
    main(sys.argv[1])
