"""bigdata: one step whose input is a file dataset of many files on a registered local datastore.

Run by the benchmark as ``python pipeline.py``; the datastore ``bigdata`` (the generated files)
is registered when the workspace is made. The step lists its mounted input, it does not read it:
what is measured is deciding whether the input changed (its content digest).
"""

import sys
from pathlib import Path

from headwater import Dataset, Datastore, Experiment, OutputFileDatasetConfig, Pipeline, PythonScriptStep, Workspace

HERE = Path(__file__).resolve().parent


def main() -> int:
    ws = Workspace.from_config(str(HERE))
    data = Dataset.File.from_files(path=[(Datastore(ws, "bigdata"), "files/")])
    out = OutputFileDatasetConfig(name="listing")
    step = PythonScriptStep(
        script_name="step.py",
        name="big",
        source_directory=str(HERE / "src"),
        arguments=["--name", "big", "--list-inputs", "--input", data.as_named_input("big").as_mount(), "--output", out],
    )
    run = Experiment(ws, "bigdata").submit(Pipeline(ws, steps=[step]))
    return 0 if run.wait_for_completion(show_output=True) == "Finished" else 1


if __name__ == "__main__":
    sys.exit(main())
