# A module's script: adds and multiplies two numbers. With --file_num1/--file_num2 it reads them
# from the files the previous step wrote; without, it starts from AML_PARAMETER_initialNum (a
# module parameter) and AML_PARAMETER_secondNum. Writes the sum and the product to the outputs.
import argparse
import os

parser = argparse.ArgumentParser()
parser.add_argument("--file_num1")
parser.add_argument("--file_num2")
parser.add_argument("--output_sum", required=True)
parser.add_argument("--output_product", required=True)
args = parser.parse_args()


def read(folder):
    with open(os.path.join(folder, "number.txt")) as f:
        return int(f.read())


def write(folder, value):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "number.txt"), "w") as f:
        f.write(str(value))


if args.file_num1:
    num1, num2 = read(args.file_num1), read(args.file_num2)
else:
    num1 = int(os.environ["AML_PARAMETER_initialNum"])
    num2 = int(os.environ.get("AML_PARAMETER_secondNum", "3"))
print("numbers:", num1, num2)
write(args.output_sum, num1 + num2)
write(args.output_product, num1 * num2)
print("sum:", num1 + num2, "product:", num1 * num2)
