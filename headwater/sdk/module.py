"""``Module``, ``ModuleVersion``, ``ModuleVersionDescriptor`` (SDK v1: azureml.pipeline.core.module).

A module is a named, versioned Python script kept in the workspace. Publishing a version
(:meth:`Module.publish_python_script`) stores its source directory as a workspace snapshot (the
version runs those files, whatever happens to the folder afterwards) together with its interface:
input and output ports (:class:`~headwater.sdk.module_ports.InputPortDef` /
``OutputPortDef``), parameters with defaults (``AML_PARAMETER_<name>`` in the step, as in SDK v1)
and arguments in which a port stands for the path of the data mapped to it. A
:class:`~headwater.sdk.module_step.ModuleStep` runs one version as an ordinary Python step, so
reuse works as for any step: same snapshot, inputs, parameters and environment, same run.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from headwater.errors import ConfigurationError, NotFoundError, NotSupportedError
from headwater.sdk.module_ports import InputPortDef, OutputPortDef
from headwater.sdk.module_version import ModuleVersion, ModuleVersionDescriptor
from headwater.sdk.parameters import PipelineParameter, parameter_value

if TYPE_CHECKING:
    from headwater.sdk.workspace import Workspace
    from headwater.store.repo_modules import ModuleRecord, ModuleVersionRecord

__all__ = ["Module", "ModuleVersion", "ModuleVersionDescriptor"]

_STATUSES = ("Active", "Disabled", "Deprecated")


def _argument_token(value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, InputPortDef):
        return {"input": value.name}
    if isinstance(value, OutputPortDef):
        return {"output": value.name}
    if isinstance(value, PipelineParameter):
        return {"parameter": value.name, "default": value._json_default()}
    if isinstance(value, bool | int | float | str):
        return {"literal": str(value)}
    raise ConfigurationError(
        f"{where}: argument {value!r} is a {type(value).__name__}.",
        key="arguments",
        hint="Module arguments are strings, numbers, InputPortDef, OutputPortDef or PipelineParameter.",
    )


def _runconfig_dict(runconfig: Any) -> dict[str, Any] | None:
    if runconfig is None:
        return None
    rc = getattr(runconfig, "run_config", runconfig)  # a ScriptRunConfig's
    env = getattr(rc, "environment", None)
    return {
        "environment": None if env is None else env.to_spec(),
        "target": getattr(rc, "target", None),
        "environment_variables": dict(getattr(rc, "environment_variables", None) or {}),
    }


def _highest(versions: list[ModuleVersionRecord]) -> ModuleVersionRecord:
    """The highest dotted-number version; the latest published when any is not a dotted number."""
    if all(v.version and all(p.isdigit() for p in v.version.split(".")) for v in versions):
        return max(versions, key=lambda v: tuple(int(p) for p in v.version.split(".")))
    return max(versions, key=lambda v: v.created_at)


class Module:
    """A named, versioned script kept in the workspace (see the module docstring)."""

    def __init__(
        self,
        workspace: Workspace,
        module_id: str,
        name: str,
        description: str | None,
        status: str,
        default_version: str | None,
        module_version_list: list[ModuleVersionDescriptor],
        _module_provider: Any = None,
        _module_version_provider: Any = None,
    ) -> None:
        self._workspace = workspace
        self._id = module_id
        self._name = name
        self._description = description
        self._status = status
        self._default_version = default_version
        self._module_version_list = list(module_version_list)

    @staticmethod
    def _from_record(workspace: Workspace, record: ModuleRecord) -> Module:
        versions = workspace.metadata_store.list_module_versions(record.id)
        return Module(
            workspace,
            record.id,
            record.name,
            record.description,
            record.status,
            record.default_version,
            [ModuleVersionDescriptor(v.version, v.id) for v in versions],
        )

    @staticmethod
    def create(workspace: Workspace, name: str, description: str | None, _workflow_provider: Any = None) -> Module:
        """A new, empty module; AlreadyExistsError when the name is taken."""
        return Module._from_record(workspace, workspace.metadata_store.create_module(name, description))

    @staticmethod
    def get(
        workspace: Workspace, module_id: str | None = None, name: str | None = None, _workflow_provider: Any = None
    ) -> Module:
        """The module with this id or name."""
        if module_id is None and name is None:
            raise ConfigurationError("Module.get needs module_id or name.", hint="Pass name='...' or module_id='...'.")
        store = workspace.metadata_store
        record = store.get_module(module_id=module_id, name=name)
        if record is None:
            raise NotFoundError(
                "Module",
                str(module_id if module_id is not None else name),
                where=f"workspace {workspace.name!r}",
                candidates=[m.name for m in store.list_modules()] if module_id is None else (),
                hint="Create it with Module.create(ws, name, description).",
            )
        return Module._from_record(workspace, record)

    @staticmethod
    def get_versions(workspace: Workspace, name: str, _workflow_provider: Any = None) -> list[ModuleVersionDescriptor]:
        """The versions of the module named ``name``."""
        return Module.get(workspace, name=name).module_version_list()

    @staticmethod
    def process_source_directory(name: str, source_directory: str, script_name: str) -> str:
        """``source_directory``, after checking that ``script_name`` is a file in it."""
        script_path = os.path.join(source_directory, script_name)
        if not os.path.isfile(script_path):
            raise ConfigurationError(
                f"Step {name!r}: script not found at {os.path.abspath(script_path)!r}.",
                hint="Pass the source_directory that holds the script.",
            )
        return source_directory

    @staticmethod
    def module_def_builder(
        name: str,
        description: str,
        execution_type: str,
        input_bindings: Any,
        output_bindings: Any,
        param_defs: Any = None,
        create_sequencing_ports: bool = True,
        allow_reuse: bool = True,
        version: str | None = None,
        module_type: str | None = None,
        step_type: str | None = None,
        arguments: Any = None,
        runconfig: Any = None,
        cloud_settings: Any = None,
    ) -> Any:
        """SDK v1's service-side module definition: not used by Headwater."""
        raise NotSupportedError(
            "Module.module_def_builder builds SDK v1's service-side module definition, which Headwater does not use.",
            hint="Publish a version with module.publish_python_script(...).",
        )

    # -- properties ------------------------------------------------------------------------------

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
    def status(self) -> str:
        return self._status

    @property
    def default_version(self) -> str | None:
        return self._default_version

    def module_version_list(self) -> list[ModuleVersionDescriptor]:
        """Every version, in publishing order."""
        return list(self._module_version_list)

    # -- publishing ----------------------------------------------------------------------------------

    def publish_python_script(
        self,
        script_name: str,
        description: str,
        inputs: list[InputPortDef],
        outputs: list[OutputPortDef],
        params: dict[str, Any] | None = None,
        create_sequencing_ports: bool = True,
        version: str | None = None,
        is_default: bool = False,
        source_directory: str | os.PathLike[str] | None = None,
        hash_paths: list[str] | None = None,
        category: str | None = None,
        arguments: list[Any] | None = None,
        runconfig: Any = None,
    ) -> ModuleVersion:
        """Publish ``script_name`` (in ``source_directory``, default the current directory) as a new
        version: its files are frozen now; ``params`` are name → default value."""
        folder = os.path.abspath(os.fspath(source_directory) if source_directory is not None else os.getcwd())
        Module.process_source_directory(self._name, folder, script_name)
        return self._publish(
            script_name,
            folder,
            description,
            inputs,
            outputs,
            dict(params or {}),
            version=version,
            is_default=is_default,
            category=category,
            arguments=arguments,
            runconfig=runconfig,
        )

    def publish(
        self,
        description: str,
        execution_type: str,
        inputs: list[InputPortDef],
        outputs: list[OutputPortDef],
        param_defs: list[Any] | None = None,
        create_sequencing_ports: bool = True,
        version: str | None = None,
        is_default: bool = False,
        content_path: str | os.PathLike[str] | None = None,
        hash_paths: list[str] | None = None,
        category: str | None = None,
        arguments: list[Any] | None = None,
        runconfig: Any = None,
    ) -> ModuleVersion:
        """SDK v1's general publish: the ``escloud`` (Python script) kind, whose script is the
        ``Script`` entry of ``param_defs``; other parameter definitions give defaults."""
        if str(execution_type).lower() != "escloud":
            raise NotSupportedError(
                f"Module.publish: execution_type {execution_type!r} is not supported "
                "(only 'escloud', a Python script).",
                hint="Publish a Python script with module.publish_python_script(...).",
            )
        params: dict[str, Any] = {}
        script = None
        for p in param_defs or []:
            name = p["name"] if isinstance(p, dict) else p.name
            default = p.get("default_value") if isinstance(p, dict) else getattr(p, "default_value", None)
            if name == "Script":
                script = default
            else:
                params[name] = default
        if not script:
            raise ConfigurationError(
                "Module.publish: param_defs has no 'Script' entry naming the script to run.",
                key="param_defs",
                hint="Use module.publish_python_script(script_name, ...).",
            )
        folder = os.path.abspath(os.fspath(content_path) if content_path is not None else os.getcwd())
        Module.process_source_directory(self._name, folder, str(script))
        return self._publish(
            str(script),
            folder,
            description,
            inputs,
            outputs,
            params,
            version=version,
            is_default=is_default,
            category=category,
            arguments=arguments,
            runconfig=runconfig,
        )

    def _publish(
        self,
        script: str,
        folder: str,
        description: str,
        inputs: list[InputPortDef],
        outputs: list[OutputPortDef],
        params: dict[str, Any],
        *,
        version: str | None,
        is_default: bool,
        category: str | None,
        arguments: list[Any] | None,
        runconfig: Any,
    ) -> ModuleVersion:
        from pathlib import Path

        from headwater.graph.spec import PipelineSpec, StepSpec
        from headwater.ops.freeze import freeze_spec

        where = f"Module {self._name!r}"
        for port, cls in [*((p, InputPortDef) for p in inputs or []), *((p, OutputPortDef) for p in outputs or [])]:
            if not isinstance(port, cls):
                raise ConfigurationError(
                    f"{where}: {port!r} is not an {cls.__name__}.",
                    hint="Declare ports with InputPortDef/OutputPortDef.",
                )
        names = [str(getattr(p, "name", "")) for p in [*(inputs or []), *(outputs or [])]]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"{where}: port names repeat: {names}.", hint="Give every port its own name.")
        ws = self._workspace
        spec = PipelineSpec(
            steps=(StepSpec(node_id="module", name=self._name, kind="python", source_directory=folder),)
        )
        frozen = Path(freeze_spec(spec, ws.metadata_store, ws.folder).steps[0].source_directory)
        definition = {
            "script": script,
            "source_directory": str(frozen),
            "snapshot_id": frozen.name,
            "inputs": [p._to_dict() for p in inputs or []],
            "outputs": [p._to_dict() for p in outputs or []],
            "params": {k: parameter_value(v, name=k) for k, v in params.items()},
            "arguments": [_argument_token(a, where) for a in arguments or []],
            "runconfig": _runconfig_dict(runconfig),
        }
        record = ws.metadata_store.add_module_version(
            self._id, definition, version=version, description=description, category=category, is_default=is_default
        )
        self._refresh()
        return ModuleVersion(ws, record, record.version, None)

    def publish_adla_script(self, *args: Any, **kwargs: Any) -> Any:
        """SDK v1's Data Lake Analytics module: not supported."""
        raise NotSupportedError(
            "Module.publish_adla_script publishes an Azure Data Lake Analytics script, which has no local counterpart.",
            hint="Publish a Python script with module.publish_python_script(...).",
        )

    def publish_azure_batch(self, *args: Any, **kwargs: Any) -> Any:
        """SDK v1's Azure Batch module: not supported."""
        raise NotSupportedError(
            "Module.publish_azure_batch publishes an Azure Batch job, which has no local counterpart.",
            hint="Publish a Python script with module.publish_python_script(...), or run the command in a CommandStep.",
        )

    # -- versions -----------------------------------------------------------------------------------

    def _refresh(self) -> None:
        record = self._workspace.metadata_store.get_module(module_id=self._id)
        if record is not None:
            fresh = Module._from_record(self._workspace, record)
            self.__dict__.update(fresh.__dict__)

    def _get_module_version(self, version_id: str) -> ModuleVersion:
        return ModuleVersion.get(self._workspace, version_id)

    def resolve(self, version: str | None = None) -> ModuleVersion:
        """The version to run: ``version`` when given and published, else the default version, else
        the highest version that is not disabled."""
        records = self._workspace.metadata_store.list_module_versions(self._id)
        if version is not None:
            match = next((r for r in records if r.version == str(version)), None)
            if match is not None:
                return ModuleVersion(self._workspace, match, match.version, None)
        default = self.get_default()
        if default is not None:
            return default
        usable = [r for r in records if r.status != "Disabled"]
        if not usable:
            raise NotFoundError(
                "Module version",
                str(version),
                where=f"Module {self._name!r}",
                candidates=[r.version for r in records],
                hint="Publish one with module.publish_python_script(...), or enable a disabled one.",
            )
        best = _highest(usable)
        return ModuleVersion(self._workspace, best, best.version, None)

    def get_default(self) -> ModuleVersion | None:
        """The default ModuleVersion (None when there is none)."""
        descriptor = next((d for d in self._module_version_list if d.version == self._default_version), None)
        return None if descriptor is None else self._get_module_version(descriptor.module_version_id)

    def get_default_version(self) -> str | None:
        return self._default_version

    def set_default_version(self, version_id: str) -> None:
        """Make the version numbered ``version_id`` the default."""
        if version_id is None or not any(d.version == str(version_id) for d in self._module_version_list):
            raise NotFoundError(
                "Module version",
                str(version_id),
                where=f"Module {self._name!r}",
                candidates=[d.version for d in self._module_version_list],
            )
        self._update(default_version=str(version_id))

    def enable(self) -> None:
        """Set the module 'Active'."""
        self._update(status="Active")

    def disable(self) -> None:
        self._update(status="Disabled")

    def deprecate(self) -> None:
        self._update(status="Deprecated")

    def set_name(self, name: str) -> None:
        if not name:
            raise ConfigurationError("Module.set_name needs a name.", key="name")
        self._update(name=name)

    def set_description(self, description: str) -> None:
        if description is None:
            raise ConfigurationError("Module.set_description needs a description.", key="description")
        self._update(description=description)

    def _update(self, **changes: Any) -> None:
        self._workspace.metadata_store.update_module(self._id, **changes)
        self._refresh()

    def __repr__(self) -> str:
        return (
            f"Module(Name: {self._name}, Id: {self._id}, Status: {self._status}, "
            f"Default version: {self._default_version}, Description: {self._description})"
        )
