"""The floor of the ParallelRunStep scoring benchmark: a hand-written ``multiprocessing.Pool(2)`` doing
the same reads (pyarrow CSV), predictions and one appended output file.

    python parallel_score_pool.py <folder of CSV files> <output file>
"""

import multiprocessing
import os
import sys

import pyarrow.csv as pcsv

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parallel_score_entry as entry


def score(path):
    frame = pcsv.read_csv(path).to_pandas()
    return entry.run(frame).to_csv(header=False, index=False, sep=" ")


def main():
    folder, output = sys.argv[1], sys.argv[2]
    files = sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".csv"))
    with multiprocessing.Pool(2, initializer=entry.init) as pool, open(output, "w") as out:
        for text in pool.imap_unordered(score, files):
            out.write(text)


if __name__ == "__main__":
    main()
