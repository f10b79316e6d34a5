"""A consumer reads exactly what its producer committed: the check before it starts and after it ends.

An output with a fixed destination (no ``{run-id}``) can be overwritten after its producer
committed it: by another run on another machine, by another tool. Leases
(:mod:`headwater.engine.destination_leases`) keep this workspace's runs from doing it; this is the
safety net. Before a step that reads such an output starts, and again when it has ended, the
output's current content digest (the digest cache: a ``stat`` per unchanged file, see
:func:`headwater.engine.output_check.stored_output_digest`) must equal the digest its producer
recorded; otherwise the step fails, naming the output, the path and what to do.

Outputs whose destination has ``{run-id}`` are not checked here (no other run writes there, and
reuse checks them when it matters), so the usual pipeline pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from headwater.engine.destination_leases import is_fixed
from headwater.engine.output_check import stored_output_digest
from headwater.errors import DataAccessError
from headwater.graph.analysis import producers
from headwater.plan.digests import DigestCacheLike
from headwater.plan.run_plan import RunPlan
from headwater.store.datastores import DatastoreBackend
from headwater.store.metadata import MetadataStore

__all__ = ["check_upstream", "fixed_upstream"]

HINT = (
    "Give the output a destination with {run-id} in it (e.g. (datastore, 'out/{run-id}')) so that "
    "runs do not share one path, or keep other writers away from it while the run uses it."
)


def fixed_upstream(plan: RunPlan, node: str) -> list[tuple[str, str]]:
    """``(input name, output name)`` of the step's inputs that read an output with a fixed destination."""
    made_by = producers(plan.spec)
    out = []
    for i in plan.spec.step(node).inputs:
        name = i.source.get("output")
        if name is None or name not in made_by:
            continue
        producer = plan.spec.step(made_by[name][0])
        spec = next((o for o in producer.outputs if o.name == name), None)
        if spec is not None and is_fixed(spec.path_template):
            out.append((i.name, name))
    return out


def check_upstream(
    plan: RunPlan,
    store: MetadataStore,
    backend_for_name: Callable[[str], DatastoreBackend],
    cache: DigestCacheLike,
    node: str,
    *,
    when: str = "before it started",
) -> None:
    """Raise DataAccessError when an output with a fixed destination that ``node`` reads is no longer
    what its producer in this run committed; ``when`` says at which point it was found."""
    made_by = producers(plan.spec)
    for input_name, output in fixed_upstream(plan, node):
        producer = made_by[output][0]
        producer_run = plan.steps[producer].run_id
        record = next((o for o in store.get_run_outputs(producer_run) if o.name == output), None)
        if record is None:
            continue  # never committed: resolving the input says so
        where = f"{record.path!r} on datastore {record.datastore!r}"
        current = None
        if record.digest is not None:
            try:
                current = stored_output_digest(backend_for_name(record.datastore), record.path, cache)
            except OSError as exc:
                raise DataAccessError(
                    f"input {input_name!r} (output {output!r}) at {where} could not be checked {when}: {exc}",
                    path=record.path,
                ) from exc
        if record.digest is None or current != record.digest:
            step = plan.spec.step(producer).name
            raise DataAccessError(
                f"input {input_name!r} (output {output!r} of step {step!r}) at {where} changed {when}: it is no "
                f"longer what step {step!r} of this run committed; another run or another tool wrote to the "
                "same destination.",
                path=record.path,
                hint=HINT,
            )
