"""The ParallelRunStep benchmark's pipeline: score the CSV files of datastore ``scores`` on 2 workers.

Run as ``python parallel_score_pipeline.py`` from the project folder; reuse is off, so every run scores.
"""

import sys
from pathlib import Path

from headwater import (
    Dataset,
    Datastore,
    Environment,
    Experiment,
    OutputFileDatasetConfig,
    ParallelRunConfig,
    ParallelRunStep,
    Pipeline,
    Workspace,
)

HERE = Path(__file__).resolve().parent


def main() -> int:
    ws = Workspace.from_config(str(HERE))
    kind = sys.argv[1]  # 'score' | 'files'
    env = Environment("bench")
    env.python.user_managed_dependencies = True
    if kind == "score":
        data = Dataset.Tabular.from_delimited_files(path=[(Datastore(ws, "scores"), "*.csv")], validate=False)
        entry, size = "parallel_score_entry.py", "1MB"
    else:
        data = Dataset.File.from_files(path=[(Datastore(ws, "small"), "")])
        entry, size = "parallel_files_entry.py", 10
    config = ParallelRunConfig(
        environment=env,
        entry_script=entry,
        source_directory=str(HERE / "src"),
        mini_batch_size=size,
        error_threshold=0,
        output_action="append_row",
        compute_target="local",
        node_count=1,
        process_count_per_node=2,
    )
    step = ParallelRunStep(
        kind, config, [data.as_named_input("data")], OutputFileDatasetConfig("out"), allow_reuse=False
    )
    run = Experiment(ws, f"parallel-{kind}").submit(Pipeline(ws, steps=[step]))
    return 0 if run.wait_for_completion(show_output=False) == "Finished" else 1


if __name__ == "__main__":
    sys.exit(main())
