"""The benchmark's step script: the same file runs under Headwater and as a plain process (the floors).

First thing, it appends ``<name> start <unix time>`` to ``$BENCH_LEDGER`` (so the benchmark can
tell which step processes really ran, and when the first one started); then it reads its inputs,
writes a 4 KiB output derived from them, optionally sleeps, and appends ``<name> end <time>``.

    step.py --name NAME [--input DIR]... [--list-inputs] [--output DIR] [--sleep SECONDS]

Standard library only and no argparse: the script should cost what a tiny user step costs.
"""

import time

STARTED = time.time()

import hashlib  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

SALT = "0"  # chain10 edits this line to change the step's output
# EDIT 0  (chain10 edits this line to change the script but not its output)


def ledger(name: str, event: str, when: float) -> None:
    with open(os.environ["BENCH_LEDGER"], "a", encoding="utf-8") as f:
        f.write(f"{name} {event} {when:.6f}\n")


def main(argv: list[str]) -> None:
    name, inputs, output, sleep, list_only = "step", [], None, 0.0, False
    i = 0
    while i < len(argv):
        flag = argv[i]
        if flag == "--list-inputs":
            list_only, i = True, i + 1
            continue
        value = argv[i + 1]
        if flag == "--name":
            name = value
        elif flag == "--input":
            inputs.append(value)
        elif flag == "--output":
            output = value
        elif flag == "--sleep":
            sleep = float(value)
        else:
            raise SystemExit(f"step.py: unknown argument {flag}")
        i += 2
    ledger(name, "start", STARTED)
    digest = hashlib.sha256(SALT.encode())
    for folder in inputs:
        for root, _dirs, files in sorted(os.walk(folder, followlinks=True)):
            for file in sorted(files):
                digest.update(file.encode())
                if not list_only:
                    with open(os.path.join(root, file), "rb") as f:
                        digest.update(f.read())
    if output is not None:
        os.makedirs(output, exist_ok=True)
        with open(os.path.join(output, "data.bin"), "wb") as f:
            f.write(digest.digest() * 128)  # 4 KiB
    if sleep:
        time.sleep(sleep)
    ledger(name, "end", time.time())


if __name__ == "__main__":
    main(sys.argv[1:])
