import argparse
import os

from azureml.core import Run

parser = argparse.ArgumentParser("train")
parser.add_argument("--arg1", type=str, help="sample string argument")
parser.add_argument("--arg2", type=str, help="sample datapath argument")
args = parser.parse_args()

print("Sample string argument  : %s" % args.arg1)
print("Sample datapath argument: %s" % args.arg2)

words = 0
names = []
for root, _, files in os.walk(args.arg2):
    for name in sorted(files):
        names.append(name)
        with open(os.path.join(root, name)) as f:
            words += len(f.read().split())

run = Run.get_context()
run.log("files", len(names))
run.log("words", words)
run.tag("input_string", args.arg1)
print("read", names, "with", words, "words")
