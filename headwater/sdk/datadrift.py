"""SDK v1's ``DataDriftDetector`` (``azureml.datadrift``): dataset monitors on this machine.

A detector compares a baseline TabularDataset (usually the training data) with a target
TabularDataset that has a timestamp column, period by period (Day, Week or Month). Its settings
are a row of the workspace's store; each ``run`` / ``backfill`` is a pipeline run in the
experiment ``<name>-Monitor-Runs`` with one step per period, reused when the baseline and the
period's target data are unchanged (:mod:`headwater.ops.drift_submit`). ``enable_schedule`` lets
``headwater serve``'s scheduler run each complete period once its ``latency`` has passed.
``get_output`` returns SDK v1's ``(results, metrics)`` and ``show`` its matplotlib figures
(:mod:`headwater.sdk.datadrift_output`). The webhook URL of an :class:`AlertConfiguration` is kept
only in the workspace's secrets file (key ``drift/<name>/webhook_url``).
"""

from __future__ import annotations

import builtins
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from headwater.errors import NotFoundError
from headwater.ops.drift_alerts import webhook_key
from headwater.sdk.datadrift_config import (
    AlertConfiguration,
    DriftArgumentError,
    DriftTypeError,
    check_backfill,
    check_datetime,
    check_feature_list,
    check_frequency,
    check_latency,
    check_name,
    check_threshold,
)
from headwater.status import DetectorState

if TYPE_CHECKING:
    from headwater.sdk.workspace import Workspace
    from headwater.store.repo_drift import DetectorRecord

__all__ = ["AlertConfiguration", "DataDriftDetector"]

DRIFT_TYPE = "DatasetBased"
_UNSET: Any = ...


def _dataset_ref(dataset: Any, what: str, *, time_series: bool = False) -> dict[str, Any]:
    from headwater.sdk.dataset import TabularDataset

    if not isinstance(dataset, TabularDataset):
        raise DriftTypeError(f"{what} must be of type TabularDataset, got {type(dataset).__name__}.")
    if time_series and not dataset.timestamp_columns[0]:
        raise DriftTypeError(
            f"{what} must be time series: it has no timestamp column.",
            hint="Use target_dataset.with_timestamp_columns(timestamp='<column>') (and register it) first.",
        )
    spec = dataset._to_spec()
    spec["baseline"] = None
    return spec


def _compute_name(workspace: Workspace, compute_target: Any) -> str | None:
    if compute_target is None:
        return None
    name = compute_target if isinstance(compute_target, str) else getattr(compute_target, "name", None)
    if not isinstance(name, str):
        raise DriftTypeError(
            f"compute_target must be a string (as its name) or a ComputeTarget object, got {compute_target!r}."
        )
    if name != "local" and workspace.metadata_store.get_compute_target(name) is None:
        from headwater.errors import ComputeTargetException

        raise ComputeTargetException(
            "compute target",
            name,
            candidates=[t.name for t in workspace.metadata_store.list_compute_targets()],
            hint="Create it first (ComputeTarget.create), or leave compute_target=None to run locally.",
        )
    return name


def _check_common_features(baseline: Any, target: Any, features: list[str] | None) -> None:
    """The datasets share a feature (the listed ones, when listed); read on their first rows only."""
    ts = {c for c in target.timestamp_columns if c}
    base = [str(c) for c in baseline.take(1).to_pandas_dataframe().columns]
    targ = [str(c) for c in target.take(1).to_pandas_dataframe().columns]
    common = [c for c in base if c in targ and c not in ts]
    if features is not None:
        missing = [f for f in features if f not in common]
        if missing:
            raise DriftArgumentError(
                f"feature_list names {missing}, which the baseline and target datasets do not both have.",
                hint=f"Common features: {', '.join(common) or 'none'}.",
            )
    elif not common:
        raise DriftArgumentError(
            "The baseline and target datasets have no feature in common: baseline columns: "
            f"{', '.join(base)}; target columns: {', '.join(targ)} (timestamp columns are not features).",
            hint="Choose datasets that share columns, or rename the columns of one of them.",
        )


class DataDriftDetector:
    """A data drift monitor between a baseline and a time-series target TabularDataset."""

    def __init__(
        self,
        workspace: Workspace,
        name: str | None = None,
        baseline_dataset: Any = None,
        target_dataset: Any = None,
        compute_target: Any = None,
        frequency: str | None = None,
        feature_list: list[str] | None = None,
        alert_config: AlertConfiguration | None = None,
        drift_threshold: float | None = None,
        latency: int | None = None,
        *,
        _record: DetectorRecord | None = None,
    ) -> None:
        """SDK v1's constructor: with datasets it creates the detector (see
        :meth:`create_from_datasets`), with a name only it loads it (:meth:`get_by_name`)."""
        self._workspace = workspace
        if _record is None:
            if name is None:
                raise DriftArgumentError("DataDriftDetector needs a name.")
            if baseline_dataset is None and target_dataset is None:
                _record = DataDriftDetector.get_by_name(workspace, name)._record
            else:
                _record = DataDriftDetector._create(
                    workspace,
                    name,
                    baseline_dataset,
                    target_dataset,
                    compute_target,
                    frequency,
                    feature_list,
                    alert_config,
                    drift_threshold,
                    latency,
                )
        self._record: DetectorRecord = _record

    # -- creating and finding ------------------------------------------------------------------

    @staticmethod
    def _create(
        workspace: Workspace,
        name: str,
        baseline_dataset: Any,
        target_dataset: Any,
        compute_target: Any,
        frequency: str | None,
        feature_list: list[str] | None,
        alert_config: AlertConfiguration | None,
        drift_threshold: float | None,
        latency: int | None,
    ) -> DetectorRecord:
        from headwater.store.repo_drift import DetectorRecord

        name = check_name(name)
        frequency = check_frequency(frequency)
        features = check_feature_list(feature_list)
        threshold = check_threshold(drift_threshold)
        assert threshold is not None
        hours = check_latency(latency)
        if alert_config is not None and not isinstance(alert_config, AlertConfiguration):
            raise DriftTypeError(f"alert_config must be of type AlertConfiguration, got {alert_config!r}.")
        baseline_ref = _dataset_ref(baseline_dataset, "baseline_dataset")
        target_ref = _dataset_ref(target_dataset, "target_dataset", time_series=True)
        _check_common_features(baseline_dataset, target_dataset, features)
        record = DetectorRecord(
            id="",
            name=name,
            baseline_dataset=baseline_ref,
            target_dataset=target_ref,
            experiment_name=f"{name}-Monitor-Runs",
            compute_target=_compute_name(workspace, compute_target),
            frequency=frequency,
            feature_list=features,
            drift_threshold=threshold,
            latency=hours,
            alert_emails=[] if alert_config is None else list(alert_config.email_addresses),
        )
        created: DetectorRecord = workspace.metadata_store.create_detector(record)
        if alert_config is not None and alert_config.webhook_url:
            from headwater.store.secrets import SecretStore

            SecretStore(workspace._folder).put(webhook_key(name), alert_config.webhook_url)
        return created

    @staticmethod
    def create_from_datasets(
        workspace: Workspace,
        name: str,
        baseline_dataset: Any,
        target_dataset: Any,
        compute_target: Any = None,
        frequency: str | None = None,
        feature_list: list[str] | None = None,
        alert_config: AlertConfiguration | None = None,
        drift_threshold: float | None = None,
        latency: int | None = None,
    ) -> DataDriftDetector:
        """Create a detector comparing ``baseline_dataset`` with the time-series ``target_dataset``.

        ``frequency``: ``Day`` (default), ``Week`` or ``Month``; ``feature_list``: at most 200
        columns (None: every column the two datasets share, except the timestamps);
        ``drift_threshold``: 0-1 (default 0.2); ``latency``: hours (0-1000) the target's data
        needs to land before a scheduled period runs. AlreadyExistsError if the name is taken.
        """
        record = DataDriftDetector._create(
            workspace,
            name,
            baseline_dataset,
            target_dataset,
            compute_target,
            frequency,
            feature_list,
            alert_config,
            drift_threshold,
            latency,
        )
        return DataDriftDetector(workspace, _record=record)

    @staticmethod
    def get_by_name(workspace: Workspace, name: str) -> DataDriftDetector:
        """The detector called ``name``; NotFoundError (a KeyError in SDK v1) when there is none."""
        store = workspace.metadata_store
        record = store.get_detector(name)
        if record is None:
            raise NotFoundError(
                "data drift detector",
                name,
                candidates=[d.name for d in store.list_detectors()],
                hint="DataDriftDetector.list(ws) lists the detectors of the workspace.",
            )
        return DataDriftDetector(workspace, _record=record)

    @staticmethod
    def list(
        workspace: Workspace, baseline_dataset: Any = None, target_dataset: Any = None
    ) -> builtins.list[DataDriftDetector]:
        """The workspace's detectors (not deleted), optionally only those of these datasets."""
        found = []
        for record in workspace.metadata_store.list_detectors():
            if baseline_dataset is not None and record.baseline_dataset.get("id") != baseline_dataset.id:
                continue
            if target_dataset is not None and record.target_dataset.get("id") != target_dataset.id:
                continue
            found.append(DataDriftDetector(workspace, _record=record))
        return found

    # -- properties ----------------------------------------------------------------------------

    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def _id(self) -> str:
        return self._record.id

    @property
    def compute_target(self) -> str | None:
        """The compute target's name (None: this machine)."""
        return self._record.compute_target

    @property
    def frequency(self) -> str:
        return self._record.frequency

    @property
    def interval(self) -> int:
        """How many periods between scheduled runs (always 1, as in SDK v1)."""
        return 1

    @property
    def feature_list(self) -> builtins.list[str] | None:
        return None if self._record.feature_list is None else list(self._record.feature_list)

    @property
    def drift_threshold(self) -> float:
        return self._record.drift_threshold

    @property
    def latency(self) -> int:
        return self._record.latency

    @property
    def baseline_dataset(self) -> Any:
        from headwater.sdk.dataset import AbstractDataset

        return AbstractDataset._from_spec(self._record.baseline_dataset, self._workspace)

    @property
    def target_dataset(self) -> Any:
        from headwater.sdk.dataset import AbstractDataset

        return AbstractDataset._from_spec(self._record.target_dataset, self._workspace)

    @property
    def schedule_start(self) -> datetime | None:
        start = self._record.schedule_start
        return None if start is None else datetime.fromisoformat(start)

    @property
    def alert_config(self) -> AlertConfiguration | None:
        from headwater.store.secrets import SecretStore

        url = SecretStore(self._workspace._folder).get(webhook_key(self.name))
        if not self._record.alert_emails and url is None:
            return None
        return AlertConfiguration(list(self._record.alert_emails), webhook_url=url)

    @property
    def state(self) -> str:
        return self._record.state

    @property
    def enabled(self) -> bool:
        return self._record.state == DetectorState.Enabled

    @property
    def drift_type(self) -> str:
        return DRIFT_TYPE

    def __repr__(self) -> str:
        return (
            f"DataDriftDetector(name={self.name!r}, frequency={self.frequency!r}, state={self.state!r}, "
            f"drift_threshold={self.drift_threshold}, latency={self.latency}, compute_target={self.compute_target!r})"
        )

    def _check_live(self) -> None:
        if self._record.state == DetectorState.Deleted:
            raise DriftArgumentError(
                f"DataDriftDetector {self.name!r} has been deleted.",
                hint="Create a new one with DataDriftDetector.create_from_datasets.",
            )

    def _reload(self) -> None:
        record = self._workspace.metadata_store.get_detector_by_id(self._record.id)
        if record is not None:
            self._record = record

    # -- runs ------------------------------------------------------------------------------------

    def _submit(self, dates: Any, trigger: str, compute_target: Any, feature_list: Any = None) -> Any:
        from headwater.ops.drift_submit import submit_detector_run

        run_id = submit_detector_run(
            self._workspace,
            self._record,
            dates,
            feature_list=feature_list,
            compute_target=_compute_name(self._workspace, compute_target),
            trigger=trigger,
        )
        assert run_id is not None  # None only for a scheduler's occurrence
        return self._workspace.get_run(run_id)

    def run(
        self,
        target_date: datetime | date,
        compute_target: Any = None,
        create_compute_target: bool = False,
        feature_list: builtins.list[str] | None = None,
        drift_threshold: float | None = None,
    ) -> Any:
        """Compare the period holding ``target_date`` with the baseline now (an ad-hoc run);
        returns its PipelineRun. ``drift_threshold`` applies to this run's result only."""
        self._check_live()
        day = check_datetime(target_date, "target_date")
        features = check_feature_list(feature_list)
        threshold = check_threshold(drift_threshold, default=None)
        run = self._submit(day, "run", compute_target, features)
        if threshold is not None:
            self._workspace.metadata_store.add_properties(run.id, {"drift_threshold": str(threshold)})
        return run

    def backfill(
        self,
        start_date: datetime | date,
        end_date: datetime | date,
        compute_target: Any = None,
        create_compute_target: bool = False,
    ) -> Any:
        """Compare every period from the one holding ``start_date`` to the one holding
        ``end_date`` (at most 31): one PipelineRun with a step per period."""
        from headwater.ops.drift_periods import periods_between

        self._check_live()
        start, end = check_backfill(self.frequency, start_date, end_date)
        dates = [p[0] for p in periods_between(self.frequency, start, end)]
        return self._submit(dates, "backfill", compute_target)

    # -- schedule and settings -------------------------------------------------------------------

    def enable_schedule(self, create_compute_target: bool = False, wait_for_completion: bool = True) -> None:
        """Let ``headwater serve``'s scheduler run each complete period (from ``schedule_start``,
        else from now) once its latency has passed; starts the workspace's server if needed."""
        from headwater.ops.server_process import ensure_server

        self._check_live()
        start = self._record.schedule_start or datetime.now(UTC).replace(tzinfo=None).isoformat()
        self._record = self._workspace.metadata_store.update_detector(
            self._record.id, state=DetectorState.Enabled, schedule_start=start
        )
        ensure_server(self._workspace._folder)

    def disable_schedule(self, wait_for_completion: bool = True) -> None:
        """Stop scheduled runs (ad-hoc runs and backfills still work)."""
        self._check_live()
        self._record = self._workspace.metadata_store.update_detector(self._record.id, state=DetectorState.Disabled)

    def update(
        self,
        compute_target: Any = _UNSET,
        feature_list: Any = _UNSET,
        schedule_start: Any = _UNSET,
        alert_config: Any = _UNSET,
        drift_threshold: Any = _UNSET,
        wait_for_completion: bool = True,
    ) -> DataDriftDetector:
        """Change the given settings (an argument left out stays as it is); returns self."""
        self._check_live()
        changes: dict[str, Any] = {}
        if compute_target is not _UNSET:
            changes["compute_target"] = _compute_name(self._workspace, compute_target)
        if feature_list is not _UNSET:
            changes["feature_list"] = check_feature_list(feature_list)
        if schedule_start is not _UNSET:
            changes["schedule_start"] = (
                None if schedule_start is None else check_datetime(schedule_start, "schedule_start").isoformat()
            )
        if drift_threshold is not _UNSET:
            changes["drift_threshold"] = check_threshold(drift_threshold)
        if alert_config is not _UNSET:
            from headwater.store.secrets import SecretStore

            if alert_config is not None and not isinstance(alert_config, AlertConfiguration):
                raise DriftTypeError(f"alert_config must be of type AlertConfiguration, got {alert_config!r}.")
            changes["alert_emails"] = [] if alert_config is None else list(alert_config.email_addresses)
            secrets = SecretStore(self._workspace._folder)
            if alert_config is not None and alert_config.webhook_url:
                secrets.put(webhook_key(self.name), alert_config.webhook_url)
            else:
                secrets.delete([webhook_key(self.name)])
        if changes:
            self._record = self._workspace.metadata_store.update_detector(self._record.id, **changes)
        return self

    def delete(self, wait_for_completion: bool = True) -> None:
        """Delete the detector (its runs stay; its name may be used again)."""
        from headwater.store.secrets import SecretStore

        self._check_live()
        self._workspace.metadata_store.delete_detector(self._record.id)
        SecretStore(self._workspace._folder).delete([webhook_key(self.name)])
        self._reload()

    # -- results ---------------------------------------------------------------------------------

    def get_output(
        self, start_time: datetime | None = None, end_time: datetime | None = None, run_id: str | None = None
    ) -> tuple[builtins.list[dict[str, Any]], builtins.list[dict[str, Any]]]:
        """SDK v1's ``(results, metrics)`` of the periods overlapping ``[start_time, end_time]``
        (default: the last 10 periods) or of one run (``run_id``); the latest run per period wins,
        and without ``run_id`` ad-hoc runs are left out, as in SDK v1."""
        from headwater.sdk.datadrift_output import get_output

        self._check_live()
        return get_output(self, start_time, end_time, run_id)

    def show(self, start_time: datetime | None = None, end_time: datetime | None = None) -> dict[str, Any]:
        """matplotlib figures of the drift magnitude and the feature contributions over time,
        ``{detector name: Figure}`` (default: the last 10 periods)."""
        from headwater.sdk.datadrift_output import show

        self._check_live()
        return show(self, start_time, end_time)
