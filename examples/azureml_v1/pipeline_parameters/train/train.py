# train.py: fits y = w * x + b by gradient descent; the learning rate and epochs come from
# pipeline parameters in argv, the model name from AML_PARAMETER_model_name.
import argparse
import os

from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--learning_rate", type=float)
parser.add_argument("--epochs", type=int)
args = parser.parse_args()
model_name = os.environ["AML_PARAMETER_model_name"]

run = Run.get_context()
df = run.input_datasets["points"].to_pandas_dataframe()
x, y = df["x"].to_numpy(), df["y"].to_numpy()

w, b = 0.0, 0.0
for _ in range(args.epochs):
    error = w * x + b - y
    w -= args.learning_rate * 2 * float((error * x).mean())
    b -= args.learning_rate * 2 * float(error.mean())
mse = float(((w * x + b - y) ** 2).mean())

run.log("learning_rate", args.learning_rate)
run.log("mse", round(mse, 4))
run.tag("model_name", model_name)
print(f"{model_name}: w={w:.3f} b={b:.3f} mse={mse:.4f} after {args.epochs} epochs")
