"""Floor for bigdata unchanged: a Python stat walk of the dataset's files (``stat_walk.py DIR``)."""

import os
import sys


def main(root: str) -> None:
    count = size = 0
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                if entry.is_dir():
                    stack.append(entry.path)
                else:
                    st = os.stat(entry.path)
                    count, size = count + 1, size + st.st_size
    print(count, size)


if __name__ == "__main__":
    main(sys.argv[1])
