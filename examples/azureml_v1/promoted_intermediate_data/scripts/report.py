from azureml.core import Run

run = Run.get_context()
sales = run.input_datasets["sales"].to_pandas_dataframe()
print("columns:", dict(sales.dtypes.astype(str)))
revenue = (sales["units"] * sales["price"]).groupby(sales["region"]).sum()
run.log("rows", len(sales))
for region, value in revenue.items():
    run.log("revenue_" + region, float(value))
print("revenue by region:", revenue.to_dict())
