"""SDK v1's ``Schedule``: run a published pipeline (or an endpoint's default) on a recurrence or
when files land on a datastore.

The schedule is a row of the workspace's store; the scheduler that fires it runs inside the
workspace's server (``headwater serve``), which :meth:`Schedule.create` starts in the background
when none runs. Each fire is recorded with its run (:meth:`Schedule.get_pipeline_runs`), and a
fire that came late after a downtime says so (``headwater schedule show``).

Differences from SDK v1: any datastore can be watched (SDK v1 accepts Azure Blob only), and
provisioning is immediate (``wait_for_provisioning`` has nothing to wait for).
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

from headwater.errors import NotFoundError
from headwater.sdk.schedule_recurrence import ScheduleRecurrence, TimeZone

if TYPE_CHECKING:
    from headwater.sdk.runs import PipelineRun
    from headwater.sdk.workspace import Workspace
    from headwater.store.repo_schedules import ScheduleRecord

__all__ = ["Schedule", "ScheduleRecurrence", "TimeZone"]

_STATUSES = ("Active", "Disabled")


def _datastore_name(datastore: Any) -> str | None:
    if datastore is None or isinstance(datastore, str):
        return datastore
    return str(datastore.name)


def _stored_parameters(workspace: Workspace, pipeline_parameters: dict[str, Any] | None) -> dict[str, Any]:
    """Parameter values as stored with a schedule: plain values, and DataPaths and datasets in
    SDK v1's REST shapes (``{"DataStoreName", "RelativePath"}``, ``{"SavedDataSetReference": {"Id"}}``)."""
    from headwater.sdk.published_pipeline import split_parameters

    plain, paths, datasets = split_parameters(workspace, pipeline_parameters)
    out: dict[str, Any] = dict(plain)
    out.update({k: {"DataStoreName": ds, "RelativePath": p} for k, (ds, p) in paths.items()})
    out.update({k: {"SavedDataSetReference": {"Id": i}} for k, i in datasets.items()})
    return out


def _check_kind(recurrence: Any, datastore: Any, data_path_parameter_name: Any, path_on_datastore: Any) -> None:
    """SDK v1's checks of a new schedule's arguments (its messages)."""
    if recurrence is not None:
        if datastore is not None:
            raise ValueError("Can not specify both a Recurrence and a Datastore")
        if data_path_parameter_name is not None:
            raise ValueError("Data Path parameter name can only be specified for Datastore schedules.")
        if path_on_datastore is not None:
            raise ValueError("Path on datastore parameter can only be specified for Datastore schedules.")
        recurrence.validate()
    elif datastore is None:
        raise ValueError("Specify a recurrence (ScheduleRecurrence) or a datastore to watch for the schedule.")


class Schedule:
    """A schedule that submits a published pipeline (SDK v1 signature and members)."""

    def __init__(
        self,
        workspace: Workspace,
        id: str,
        name: str,
        description: str | None,
        pipeline_id: str | None,
        status: str,
        recurrence: ScheduleRecurrence | None,
        datastore_name: str | None,
        polling_interval: int | None,
        data_path_parameter_name: str | None,
        continue_on_step_failure: bool | None,
        path_on_datastore: str | None,
        _schedule_provider: Any = None,
        pipeline_endpoint_id: str | None = None,
    ) -> None:
        self._workspace = workspace
        self._id = id
        self._name = name
        self._description = description
        self._pipeline_id = pipeline_id
        self._pipeline_endpoint_id = pipeline_endpoint_id
        self._status = status
        self._recurrence = recurrence
        self._datastore_name = datastore_name
        self._polling_interval = polling_interval
        self._data_path_parameter_name = data_path_parameter_name
        self._continue_on_step_failure = continue_on_step_failure
        self._path_on_datastore = path_on_datastore
        self._schedule_type = "Recurrence" if recurrence is not None else "DataStore"

    @staticmethod
    def _from_record(workspace: Workspace, record: ScheduleRecord) -> Schedule:
        return Schedule(
            workspace,
            record.id,
            record.name,
            record.description,
            record.pipeline_id,
            record.status,
            None if record.recurrence is None else ScheduleRecurrence._from_data(record.recurrence),
            record.datastore,
            record.polling_interval,
            record.data_path_parameter_name,
            record.continue_on_step_failure,
            record.path_on_datastore,
            pipeline_endpoint_id=record.pipeline_endpoint_id,
        )

    # -- properties ----------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self._id

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def pipeline_id(self) -> str | None:
        return self._pipeline_id

    @property
    def pipeline_endpoint_id(self) -> str | None:
        return self._pipeline_endpoint_id

    @property
    def status(self) -> str:
        return self._status

    @property
    def recurrence(self) -> ScheduleRecurrence | None:
        return self._recurrence

    @property
    def datastore_name(self) -> str | None:
        return self._datastore_name

    @property
    def polling_interval(self) -> int | None:
        return self._polling_interval

    @property
    def data_path_parameter_name(self) -> str | None:
        return self._data_path_parameter_name

    @property
    def continue_on_step_failure(self) -> bool | None:
        return self._continue_on_step_failure

    @property
    def path_on_datastore(self) -> str | None:
        return self._path_on_datastore

    # -- creating ------------------------------------------------------------------------------

    @staticmethod
    def create(
        workspace: Workspace,
        name: str,
        pipeline_id: str,
        experiment_name: str,
        recurrence: ScheduleRecurrence | None = None,
        description: str | None = None,
        pipeline_parameters: dict[str, Any] | None = None,
        wait_for_provisioning: bool = False,
        wait_timeout: int = 3600,
        datastore: Any = None,
        polling_interval: int = 5,
        data_path_parameter_name: str | None = None,
        continue_on_step_failure: bool | None = None,
        path_on_datastore: str | None = None,
        _workflow_provider: Any = None,
        _service_endpoint: Any = None,
    ) -> Schedule:
        """A new schedule of published pipeline ``pipeline_id``: on ``recurrence``, or when files are
        added to or changed in ``path_on_datastore`` of ``datastore`` (checked every
        ``polling_interval`` minutes; the file's path goes to DataPath parameter
        ``data_path_parameter_name``). Starts the workspace's server when none runs."""
        from headwater.ops.publish import get_published

        _check_kind(recurrence, datastore, data_path_parameter_name, path_on_datastore)
        get_published(workspace.metadata_store, pipeline_id)  # NotFoundError for an unknown id
        return Schedule._create(
            workspace,
            name=name,
            experiment_name=experiment_name,
            pipeline_id=pipeline_id,
            recurrence=recurrence,
            description=description,
            pipeline_parameters=pipeline_parameters,
            datastore=datastore,
            polling_interval=polling_interval,
            data_path_parameter_name=data_path_parameter_name,
            continue_on_step_failure=continue_on_step_failure,
            path_on_datastore=path_on_datastore,
        )

    @staticmethod
    def create_for_pipeline_endpoint(
        workspace: Workspace,
        name: str,
        pipeline_endpoint_id: str,
        experiment_name: str,
        recurrence: ScheduleRecurrence | None = None,
        description: str | None = None,
        pipeline_parameters: dict[str, Any] | None = None,
        wait_for_provisioning: bool = False,
        wait_timeout: int = 3600,
        datastore: Any = None,
        polling_interval: int = 5,
        data_path_parameter_name: str | None = None,
        continue_on_step_failure: bool | None = None,
        path_on_datastore: str | None = None,
        _workflow_provider: Any = None,
        _service_endpoint: Any = None,
    ) -> Schedule:
        """As :meth:`create`, for a pipeline endpoint: each fire runs its default version then."""
        _check_kind(recurrence, datastore, data_path_parameter_name, path_on_datastore)
        if workspace.metadata_store.get_pipeline_endpoint(endpoint_id=pipeline_endpoint_id) is None:
            raise NotFoundError(
                "PipelineEndpoint", pipeline_endpoint_id, hint="`headwater endpoint list` lists the pipeline endpoints."
            )
        return Schedule._create(
            workspace,
            name=name,
            experiment_name=experiment_name,
            pipeline_endpoint_id=pipeline_endpoint_id,
            recurrence=recurrence,
            description=description,
            pipeline_parameters=pipeline_parameters,
            datastore=datastore,
            polling_interval=polling_interval,
            data_path_parameter_name=data_path_parameter_name,
            continue_on_step_failure=continue_on_step_failure,
            path_on_datastore=path_on_datastore,
        )

    @staticmethod
    def _create(
        workspace: Workspace,
        *,
        recurrence: ScheduleRecurrence | None,
        datastore: Any,
        pipeline_parameters: dict[str, Any] | None,
        polling_interval: int,
        **fields: Any,
    ) -> Schedule:
        from headwater.config import validate_name
        from headwater.ops.schedules import create_schedule
        from headwater.ops.server_process import ensure_server
        from headwater.store.repo_schedules import ScheduleRecord

        validate_name("experiment", fields["experiment_name"])
        is_trigger = recurrence is None
        record = ScheduleRecord(
            id="",
            recurrence=None if recurrence is None else recurrence._recurrence().to_dict(),
            datastore=_datastore_name(datastore),
            pipeline_parameters=_stored_parameters(workspace, pipeline_parameters),
            polling_interval=polling_interval if is_trigger else None,
            **fields,
        )
        if (
            is_trigger
            and record.datastore is not None
            and workspace.metadata_store.get_datastore(record.datastore) is None
        ):
            raise NotFoundError("Datastore", record.datastore, where=f"workspace {workspace.name!r}")
        stored = create_schedule(workspace.metadata_store, workspace.folder, record)
        ensure_server(workspace.folder)  # the scheduler lives in the workspace's server
        return Schedule._from_record(workspace, stored)

    # -- finding -------------------------------------------------------------------------------

    @staticmethod
    def get(workspace: Workspace, id: str, _workflow_provider: Any = None, _service_endpoint: Any = None) -> Schedule:
        """The schedule with this id (NotFoundError when there is none)."""
        record = workspace.metadata_store.get_schedule(id)
        if record is None:
            raise NotFoundError(
                "Schedule", id, where=f"workspace {workspace.name!r}", hint="Schedule.list(ws) lists them."
            )
        return Schedule._from_record(workspace, record)

    @staticmethod
    def list(
        workspace: Workspace,
        active_only: bool = True,
        pipeline_id: str | None = None,
        pipeline_endpoint_id: str | None = None,
        _workflow_provider: Any = None,
        _service_endpoint: Any = None,
    ) -> builtins.list[Schedule]:
        """The workspace's schedules (active ones only by default), or those of a pipeline or endpoint
        (then of any status, as in SDK v1)."""
        if pipeline_id is not None or pipeline_endpoint_id is not None:
            active_only = False
        records = workspace.metadata_store.list_schedules(
            active_only=active_only, pipeline_id=pipeline_id, pipeline_endpoint_id=pipeline_endpoint_id
        )
        return [Schedule._from_record(workspace, r) for r in records]

    @staticmethod
    def get_all(
        workspace: Workspace,
        active_only: bool = True,
        pipeline_id: str | None = None,
        pipeline_endpoint_id: str | None = None,
        _workflow_provider: Any = None,
        _service_endpoint: Any = None,
    ) -> builtins.list[Schedule]:
        """Deprecated in SDK v1: :meth:`list`."""
        return Schedule.list(workspace, active_only, pipeline_id, pipeline_endpoint_id)

    @staticmethod
    def get_schedules_for_pipeline_id(
        workspace: Workspace, pipeline_id: str, _workflow_provider: Any = None, _service_endpoint: Any = None
    ) -> builtins.list[Schedule]:
        """Every schedule of published pipeline ``pipeline_id``."""
        return Schedule.list(workspace, active_only=False, pipeline_id=pipeline_id)

    @staticmethod
    def get_schedules_for_pipeline_endpoint_id(
        workspace: Workspace, pipeline_endpoint_id: str, _workflow_provider: Any = None, _service_endpoint: Any = None
    ) -> builtins.list[Schedule]:
        """Every schedule of pipeline endpoint ``pipeline_endpoint_id``."""
        return Schedule.list(workspace, active_only=False, pipeline_endpoint_id=pipeline_endpoint_id)

    @staticmethod
    def load_yaml(
        workspace: Workspace, filename: str, _workflow_provider: Any = None, _service_endpoint: Any = None
    ) -> dict[str, Any]:
        """The ``Schedule:`` section of a YAML file as :meth:`create`'s arguments (SDK v1's format)."""
        from headwater.sdk.schedule_yaml import load_schedule_yaml

        return load_schedule_yaml(workspace, filename)

    # -- changing ------------------------------------------------------------------------------

    def update(
        self,
        name: str | None = None,
        description: str | None = None,
        recurrence: ScheduleRecurrence | None = None,
        pipeline_parameters: dict[str, Any] | None = None,
        status: str | None = None,
        wait_for_provisioning: bool = False,
        wait_timeout: int = 3600,
        datastore: Any = None,
        polling_interval: int | None = None,
        data_path_parameter_name: str | None = None,
        continue_on_step_failure: bool | None = None,
        path_on_datastore: str | None = None,
    ) -> None:
        """Change the given fields (None leaves one as it is), with SDK v1's checks."""
        from headwater.ops.schedules import update_schedule

        if recurrence is not None:
            if self._schedule_type != "Recurrence":
                raise ValueError("Can not specify a recurrence for a Datastore schedule.")
            recurrence.validate()
        if datastore is not None and self._schedule_type != "DataStore":
            raise ValueError("Can not specify a Datastore for a Recurrence schedule.")
        if polling_interval is not None and polling_interval < 0:
            raise ValueError("The polling interval must be greater")
        if status is not None and status not in _STATUSES:
            raise ValueError("Status must be either Active or Disabled")
        record = update_schedule(
            self._workspace.metadata_store,
            self._workspace.folder,
            self._id,
            name=name,
            description=description,
            status=status,
            recurrence=None if recurrence is None else recurrence._recurrence().to_dict(),
            pipeline_parameters=None
            if pipeline_parameters is None
            else _stored_parameters(self._workspace, pipeline_parameters),
            datastore=_datastore_name(datastore),
            polling_interval=polling_interval,
            data_path_parameter_name=data_path_parameter_name,
            continue_on_step_failure=continue_on_step_failure,
            path_on_datastore=path_on_datastore,
        )
        self._refresh(record)
        if record.status == "Active":
            from headwater.ops.server_process import ensure_server

            ensure_server(self._workspace.folder)

    def _refresh(self, record: ScheduleRecord) -> None:
        fresh = Schedule._from_record(self._workspace, record)
        self.__dict__.update({k: v for k, v in fresh.__dict__.items() if k != "_workspace"})

    def enable(self, wait_for_provisioning: bool = False, wait_timeout: int = 3600) -> None:
        """Set the schedule Active: it fires again (the workspace's server is started if needed)."""
        self.update(status="Active")

    def disable(self, wait_for_provisioning: bool = False, wait_timeout: int = 3600) -> None:
        """Set the schedule Disabled: it does not fire until enabled."""
        self.update(status="Disabled")

    # -- runs ----------------------------------------------------------------------------------

    def get_pipeline_runs(self) -> builtins.list[PipelineRun]:
        """The pipeline runs this schedule submitted, newest first."""
        from headwater.sdk.runs import PipelineRun

        fires = self._workspace.metadata_store.list_fires(self._id)
        return [PipelineRun._get(self._workspace, f.run_id) for f in fires if f.run_id]

    def get_last_pipeline_run(self) -> PipelineRun | None:
        """The last pipeline run this schedule submitted, or None."""
        from headwater.sdk.runs import PipelineRun

        for fire in self._workspace.metadata_store.list_fires(self._id):
            if fire.run_id:
                return PipelineRun._get(self._workspace, fire.run_id)
        return None

    # -- showing -------------------------------------------------------------------------------

    def _get_base_info_dict(self, show_link: bool = False) -> dict[str, Any]:
        info: dict[str, Any] = {
            "Name": self.name,
            "Id": self.id,
            "Status": self.status,
            "Pipeline Id": self.pipeline_id,
            "Pipeline Endpoint Id": self.pipeline_endpoint_id,
        }
        rec = self._recurrence
        if rec is not None:
            text = "Runs"
            if rec.hours is not None or rec.minutes is not None:
                times = [f"{h}:{int(m):02d}" for h in (rec.hours or [0]) for m in (rec.minutes or [0])]
                text += " at " + ", ".join(times)
            if rec.week_days:
                text += " on " + ", ".join(rec.week_days)
            text += f" every {rec.frequency}" if rec.interval == 1 else f" every {rec.interval} {rec.frequency}s"
            info["Recurrence Details"] = text
        else:
            info["Datastore"] = self.datastore_name
            if self.path_on_datastore is not None:
                info["Path on Datastore"] = self.path_on_datastore
        return info

    def _to_dict_cli(self, verbose: bool = True) -> dict[str, Any]:
        info = self._get_base_info_dict()
        if verbose:
            info["Description"] = self.description
        return info

    def __str__(self) -> str:
        return "Pipeline({})".format(",\n".join(f"{k}: {v}" for k, v in self._get_base_info_dict().items()))

    __repr__ = __str__
