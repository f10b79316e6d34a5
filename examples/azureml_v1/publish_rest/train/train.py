# train.py: fits y = w * x (+ noise-free data made here); the learning rate comes from a pipeline
# parameter in argv, so each REST call can change it.
import argparse

from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--learning_rate", type=float)
args = parser.parse_args()

xs = [i / 10 for i in range(50)]
ys = [3 * x for x in xs]
w = 0.0
for _ in range(100):
    w -= args.learning_rate * 2 * sum((w * xs[i] - ys[i]) * xs[i] for i in range(len(xs))) / len(xs)

run = Run.get_context()
run.log("learning_rate", args.learning_rate)
run.log("w", round(w, 3))
print(f"learning_rate={args.learning_rate}: w={w:.3f}")
