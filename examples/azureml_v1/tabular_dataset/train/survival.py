# survival.py: survival rates by class and sex, from the registered titanic dataset.
from azureml.core import Run

run = Run.get_context()
df = run.input_datasets["titanic"].to_pandas_dataframe()

print(df.dtypes.to_dict())
by_class = df.groupby("Pclass")["Survived"].mean().round(3)
for pclass, rate in by_class.items():
    run.log_row("survival_by_class", pclass=int(pclass), rate=float(rate))
run.log("passengers", len(df))
run.log("mean_fare", round(float(df["Fare"].mean()), 2))
run.log("missing_ages", int(df["Age"].isna().sum()))
print("survival rate by class:", by_class.to_dict())
