import argparse
import os
import random

parser = argparse.ArgumentParser()
parser.add_argument("--output")
args = parser.parse_args()

# The folder of a PipelineData output must be created by the script.
os.makedirs(args.output, exist_ok=True)
rng = random.Random(7)
for month in ("2024-01", "2024-02"):
    with open(os.path.join(args.output, f"sales-{month}.csv"), "w") as f:
        f.write("region,units,price\n")
        for region in ("north", "south", "north", "east"):
            f.write(f"{region},{rng.randint(1, 9)},{rng.choice([2.5, 4.0])}\n")
print("wrote 2 files to", args.output)
