"""The compatibility layer's data: which SDK v1 name each ``azureml`` module path serves, and how.

:data:`MODULES` maps every ``azureml`` module the layer serves to the public names SDK v1 has
there (azureml-core 1.61, azureml-pipeline-core/-steps 1.62; see the reference's §1). Each name maps
to one of:

- :data:`HEADWATER`: the object Headwater exports under the same name (``headwater.<name>``), so
  ``azureml.core.Workspace is headwater.Workspace`` and ``isinstance`` holds across both spellings;
- ``"package.module:attribute"``: another Headwater object (a class Headwater does not export at
  the top level, a compat-only object such as the authentication classes, a constant);
- :data:`NOT_SUPPORTED`: an SDK v1 name Headwater does not provide (yet). It imports, and using
  it raises :class:`~headwater.errors.NotSupportedError` with :data:`INSTEAD`'s advice.

A name that is in none of these is an ordinary ImportError/AttributeError, so typos still fail.
The other module paths of the real packages, and the re-exports code relies on, are listed in
:mod:`headwater.compat.names_more` and merged into :data:`MODULES` below; :func:`advice` says
what to use instead of a stand-in (:data:`INSTEAD` by name, else its module's advice).
``scripts/compat_table.py`` turns this module into the table in ``docs/migrating-from-sdk-v1.md``.
Stdlib only and cheap to import: the ``azureml`` shim loads it in every step that imports
``azureml``.
"""

from __future__ import annotations

from headwater._version import __version__

__all__ = [
    "COMPAT_NOTES",
    "advice",
    "DEFAULT_GPU_IMAGE",
    "HEADWATER",
    "INSTEAD",
    "MODULES",
    "NOT_SUPPORTED",
    "SDK_VERSION",
]

#: The name is the object ``headwater.<name>``.
HEADWATER = "headwater"
#: The name is an SDK v1 name Headwater does not provide; using it raises NotSupportedError.
NOT_SUPPORTED = "not supported"

#: ``azureml.core.VERSION``: the SDK v1 API level followed, with Headwater's version as the local label.
SDK_VERSION = "1.61.0+headwater." + "".join(c if c.isalnum() else "." for c in __version__)
#: ``azureml.core.runconfig.DEFAULT_GPU_IMAGE`` (recorded on an environment like the CPU image; not used).
DEFAULT_GPU_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.1-cudnn8-ubuntu20.04:20230509.v1"

_N = NOT_SUPPORTED
_H = HEADWATER
_RUN = "headwater.runtime.run"
_ENV = "headwater.sdk.environment"
_AUTH = "headwater.compat.auth"
_EXC = "headwater.compat.exceptions"
_ADF = "headwater.sdk.compute_datafactory"
_VERSION = "headwater.compat.names:SDK_VERSION"
_STEP_RUN_OUTPUT = "headwater.sdk.step_outputs:StepRunOutput"
_PUBLISHED = "headwater.sdk.published_pipeline:PublishedPipeline"
_ENDPOINT = "headwater.sdk.pipeline_endpoint:PipelineEndpoint"
_SCHEDULES = "headwater.sdk.schedule"
_MODEL = "headwater.sdk.model:Model"


def _unsupported(*names: str) -> dict[str, str]:
    """``{name: NOT_SUPPORTED}`` for each name."""
    return dict.fromkeys(names, NOT_SUPPORTED)


_LEGACY_COMPUTE_HELPERS = _unsupported(
    "attach_legacy_compute_target",
    "is_compute_target_prepared",
    "prepare_compute_target",
    "remove_legacy_compute_target",
)
_AUTH_CLASSES = {
    name: f"{_AUTH}:{name}"
    for name in (
        "AbstractAuthentication",
        "AccessToken",
        "ArmTokenAuthentication",
        "Audience",
        "AzureCliAuthentication",
        "AzureMLTokenAuthentication",
        "InteractiveLoginAuthentication",
        "MsiAuthentication",
        "ServicePrincipalAuthentication",
        "TokenAuthentication",
    )
}
_OUTPUT_CONFIGS = _unsupported(
    "HDFSOutputDatasetConfig", "LinkFileOutputDatasetConfig", "LinkTabularOutputDatasetConfig"
)

MODULES: dict[str, dict[str, str]] = {
    "azureml": {},
    "azureml.core": {
        "ComputeTarget": _H,
        "ContainerRegistry": "headwater.compat.config_holders:ContainerRegistry",
        "Dataset": _H,
        "Datastore": _H,
        "Environment": _H,
        "Experiment": _H,
        "Image": _N,
        "Keyvault": _N,
        "LinkedService": _N,
        "Model": _MODEL,
        "PrivateEndPoint": _N,
        "PrivateEndPointConfig": _N,
        "Run": _H,
        "RunConfiguration": _H,
        "ScriptRun": _H,
        "ScriptRunConfig": _H,
        "SynapseWorkspaceLinkedServiceConfiguration": _N,
        "VERSION": _VERSION,
        "Webservice": _N,
        "Workspace": _H,
        "__version__": _VERSION,
        "diagnostic_log": _N,
        "get_run": _N,
        **_LEGACY_COMPUTE_HELPERS,
    },
    "azureml.core.authentication": {**_AUTH_CLASSES, "AuthenticationException": f"{_EXC}:AuthenticationException"},
    "azureml.core.compute": {
        "__version__": _VERSION,
        "AmlCompute": _H,
        "ComputeInstance": _H,
        "ComputeTarget": _H,
        "DataFactoryCompute": _H,
        **_unsupported(
            "AdlaCompute",
            "AksCompute",
            "BatchCompute",
            "DatabricksCompute",
            "DsvmCompute",
            "HDInsightCompute",
            "KubernetesCompute",
            "KustoCompute",
            "RemoteCompute",
            "SynapseCompute",
        ),
    },
    "azureml.core.compute.amlcompute": {"AmlCompute": _H, "AmlComputeProvisioningConfiguration": _H},
    "azureml.core.compute.computeinstance": {"ComputeInstance": _H, "ComputeInstanceProvisioningConfiguration": _H},
    "azureml.core.compute.datafactory": {
        "DataFactoryCompute": _H,
        "DataFactoryAttachConfiguration": f"{_ADF}:DataFactoryAttachConfiguration",
        "DataFactoryProvisioningConfiguration": f"{_ADF}:DataFactoryProvisioningConfiguration",
    },
    "azureml.core.compute_target": {
        "AbstractComputeTarget": _N,
        "ComputeTargetException": _H,
        "LocalTarget": _N,
        **_LEGACY_COMPUTE_HELPERS,
    },
    "azureml.core.conda_dependencies": {"CondaDependencies": _H},
    "azureml.core.dataset": {"Dataset": _H},
    "azureml.core.datastore": {"Datastore": _H},
    "azureml.core.environment": {
        "DockerBuildContext": _N,
        "DockerImagePlatform": _N,
        "DockerSection": f"{_ENV}:DockerSection",
        "Environment": _H,
        "ImageBuildDetails": _N,
        "PythonSection": f"{_ENV}:PythonSection",
        "RCranPackage": _N,
        "RGitHubPackage": _N,
        "RSection": _N,
        "SparkSection": _N,
    },
    "azureml.core.experiment": {"Experiment": _H},
    "azureml.core.model": {"InferenceConfig": _N, "Model": _MODEL},
    "azureml.core.run": {
        "Run": _H,
        "RunEnvironmentException": f"{_RUN}:RunEnvironmentException",
        "_OfflineRun": f"{_RUN}:_OfflineRun",
        "_SubmittedRun": f"{_RUN}:_SubmittedRun",
        "get_run": _N,
    },
    "azureml.core.runconfig": {
        "CondaDependencies": _H,
        "DEFAULT_CPU_IMAGE": f"{_ENV}:DEFAULT_CPU_IMAGE",
        "DEFAULT_GPU_IMAGE": "headwater.compat.names:DEFAULT_GPU_IMAGE",
        "DockerConfiguration": _H,
        "RunConfiguration": _H,
        "AmlComputeConfiguration": "headwater.sdk.runconfig:AmlComputeConfiguration",
        "DataPath": "headwater.compat.config_holders:RunConfigDataPath",
        "DataReferenceConfiguration": "headwater.sdk.data_reference:DataReferenceConfiguration",
        "Dataset": "headwater.compat.config_holders:RunConfigDataset",
        **_unsupported(
            "Data",
            "DataLocation",
            "HdiConfiguration",
            "HistoryConfiguration",
            "MpiConfiguration",
            "OutputData",
            "ParallelTaskConfiguration",
            "PyTorchConfiguration",
            "SparkConfiguration",
            "TensorflowConfiguration",
        ),
    },
    "azureml.core.script_run": {"ScriptRun": _H},
    "azureml.core.script_run_config": {"ScriptRunConfig": _H},
    "azureml.core.workspace": {"Workspace": _H},
    "azureml.data": {
        "__version__": _VERSION,
        "DataType": "headwater.compat.data_type:DataType",
        "FileDataset": _H,
        "OutputFileDatasetConfig": _H,
        "TabularDataset": _H,
        **_OUTPUT_CONFIGS,
    },
    "azureml.data.azure_storage_datastore": {"AzureBlobDatastore": _H, "AzureFileDatastore": _H},
    "azureml.data.data_reference": {"DataReference": _H},
    "azureml.data.datapath": {"DataPath": _H, "DataPathComputeBinding": _H},
    "azureml.data.dataset_consumption_config": {"DatasetConsumptionConfig": _H},
    "azureml.data.dataset_factory": {
        "DataType": "headwater.compat.data_type:DataType",
        "FileDatasetFactory": "headwater.sdk.dataset_factory:FileDatasetFactory",
        "TabularDatasetFactory": "headwater.sdk.dataset_factory:TabularDatasetFactory",
    },
    "azureml.data.output_dataset_config": {
        "OutputDatasetConfig": _H,
        "OutputFileDatasetConfig": _H,
        "OutputTabularDatasetConfig": _H,
        **_OUTPUT_CONFIGS,
    },
    "azureml.exceptions": {
        "__version__": _VERSION,
        "ActivityCanceledException": f"{_EXC}:ActivityCanceledException",
        "ActivityFailedException": _H,
        "AuthenticationException": f"{_EXC}:AuthenticationException",
        "AzureMLAggregatedException": f"{_EXC}:AzureMLAggregatedException",
        "AzureMLException": "headwater:HeadwaterError",
        "ComputeTargetException": _H,
        "DatasetTimestampMissingError": f"{_EXC}:DatasetTimestampMissingError",
        "DiscoveryUrlNotFoundException": f"{_EXC}:DiscoveryUrlNotFoundException",
        "ExperimentExecutionException": f"{_EXC}:ExperimentExecutionException",
        "ModelNotFoundException": f"{_EXC}:ModelNotFoundException",
        "ModelPathNotFoundException": f"{_EXC}:ModelPathNotFoundException",
        "ParallelRunException": f"{_EXC}:ParallelRunException",
        "ProjectSystemException": f"{_EXC}:ProjectSystemException",
        "RunConfigurationException": "headwater:ConfigurationError",
        "RunEnvironmentException": f"{_RUN}:RunEnvironmentException",
        "ServiceException": f"{_EXC}:ServiceException",
        "SnapshotException": f"{_EXC}:SnapshotException",
        "TrainingException": f"{_EXC}:TrainingException",
        "UserErrorException": "headwater:HeadwaterError",
        "WebserviceException": f"{_EXC}:WebserviceException",
        "WorkspaceException": "headwater.errors:WorkspaceException",
        "WorkspacePrivateEndpointException": f"{_EXC}:WorkspacePrivateEndpointException",
    },
    "azureml.pipeline": {},
    "azureml.pipeline.core": {
        "__version__": _VERSION,
        "InputPortBinding": _N,
        "Module": "headwater.sdk.module:Module",
        "ModuleVersion": "headwater.sdk.module_version:ModuleVersion",
        "ModuleVersionDescriptor": "headwater.sdk.module_version:ModuleVersionDescriptor",
        "OutputPortBinding": _N,
        "Pipeline": _H,
        "PipelineData": _H,
        "PipelineDataset": _N,
        "PipelineDraft": "headwater.sdk.pipeline_draft:PipelineDraft",
        "PipelineEndpoint": _ENDPOINT,
        "PipelineParameter": _H,
        "PipelineRun": _H,
        "PipelineStep": _H,
        "PortDataReference": _H,
        "PublishedPipeline": _PUBLISHED,
        "Schedule": f"{_SCHEDULES}:Schedule",
        "ScheduleRecurrence": f"{_SCHEDULES}:ScheduleRecurrence",
        "StepRun": _H,
        "StepRunOutput": _STEP_RUN_OUTPUT,
        "StepSequence": _H,
        "TimeZone": f"{_SCHEDULES}:TimeZone",
        "TrainingOutput": _N,
    },
    "azureml.pipeline.core.graph": {
        "PipelineParameter": _H,
        "PortDataReference": _H,
        "InputPortDef": "headwater.sdk.module_ports:InputPortDef",
        "OutputPortDef": "headwater.sdk.module_ports:OutputPortDef",
        "Module": _N,  # the graph's module node, not azureml.pipeline.core.Module
        "PublishedPipeline": _PUBLISHED,
        **_unsupported(
            "DataSource",
            "DataSourceDef",
            "DataSourceNode",
            "DataType",
            "Edge",
            "Graph",
            "InputPortBinding",
            "ModuleDef",
            "ModuleNode",
            "Node",
            "OutputPortBinding",
            "ParamDef",
            "PipelineDataset",
            "TrainingOutput",
        ),
    },
    "azureml.pipeline.core.pipeline_output_dataset": {
        name: f"headwater.sdk.pipeline_output_dataset:{name}"
        for name in (
            "DatasetRegistration",
            "PipelineOutputAbstractDataset",
            "PipelineOutputFileDataset",
            "PipelineOutputTabularDataset",
        )
    },
    "azureml.pipeline.core.run": {"PipelineRun": _H, "StepRun": _H, "StepRunOutput": _STEP_RUN_OUTPUT},
    "azureml.pipeline.steps": {
        "__version__": _VERSION,
        "CommandStep": _H,
        "PythonScriptStep": _H,
        "DataTransferStep": _H,
        "ModuleStep": "headwater.sdk.module_step:ModuleStep",
        "ParallelRunConfig": _H,
        "ParallelRunStep": _H,
        **_unsupported(
            "AdlaStep",
            "AutoMLStep",
            "AutoMLStepRun",
            "AzureBatchStep",
            "DatabricksStep",
            "EstimatorStep",
            "HyperDriveStep",
            "HyperDriveStepRun",
            "KustoStep",
            "MpiStep",
            "RScriptStep",
            "SynapseSparkStep",
        ),
    },
    "azureml.datadrift": {
        "DataDriftDetector": _H,
        "AlertConfiguration": _H,
    },
    "azureml.datadrift.datadriftdetector": {"DataDriftDetector": _H},
    "azureml.datadrift.alert_configuration": {"AlertConfiguration": _H},
    "azureml.widgets": {"RunDetails": "headwater.compat.widgets:RunDetails"},
    "azureml_user": {},
    "azureml_user.parallel_run": {"EntryScript": "headwater.compat.entry_script:EntryScript"},
}

# -- what to use instead of the names Headwater does not provide ------------------------------

_AZURE_ONLY = "It depends on an Azure service that has no local counterpart."
_DEPLOY = "Model deployment is outside Headwater: serve the model files with a web framework of your choice."
_NO_IMAGES = "Headwater builds no Docker images: steps run in the current interpreter when it satisfies the spec."
_ONE_NODE = "Distributed (multi-node) jobs are not supported yet: run the training in one PythonScriptStep."
_GRAPH = "SDK v1's internal graph classes: Headwater builds its own graph from Pipeline(ws, steps=[...])."
_BIND = (
    "Bind data through step inputs/outputs and arguments (DatasetConsumptionConfig, OutputFileDatasetConfig, "
    "PipelineData)."
)
_AUTOML = "AutoML is an Azure service: train with a library (scikit-learn, FLAML ...) in a PythonScriptStep."
_LEGACY = "Create compute with ComputeTarget.create(ws, name, AmlCompute.provisioning_configuration(...))."
_OTHER_COMPUTE = "Only AmlCompute and ComputeInstance exist (local process pools): create an AmlCompute with that name."
_RUNCONFIG_DATA = "Pass data to a step as inputs or arguments instead of RunConfiguration.data."

INSTEAD: dict[str, str] = {
    # azureml.core
    "Image": _DEPLOY,
    "InferenceConfig": _DEPLOY,
    "Keyvault": "Headwater has no key vault: read secrets from environment variables or your own secret store.",
    "LinkedService": _AZURE_ONLY,
    "PrivateEndPoint": "A workspace is a local folder: there is no network endpoint to configure.",
    "PrivateEndPointConfig": "A workspace is a local folder: there is no network endpoint to configure.",
    "SynapseWorkspaceLinkedServiceConfiguration": _AZURE_ONLY,
    "Webservice": _DEPLOY,
    "diagnostic_log": "Use Python's logging; a step's output is kept in its run folder (user_logs/std_log.txt).",
    "get_run": "Use PipelineRun.get(ws, run_id), or Experiment(ws, name).get_runs().",
    "attach_legacy_compute_target": _LEGACY,
    "is_compute_target_prepared": _LEGACY,
    "prepare_compute_target": _LEGACY,
    "remove_legacy_compute_target": _LEGACY,
    # azureml.core.compute, azureml.core.compute_target
    "AdlaCompute": _OTHER_COMPUTE,
    "AksCompute": _OTHER_COMPUTE,
    "BatchCompute": _OTHER_COMPUTE,
    "DatabricksCompute": _OTHER_COMPUTE,
    "DsvmCompute": _OTHER_COMPUTE,
    "HDInsightCompute": _OTHER_COMPUTE,
    "KubernetesCompute": _OTHER_COMPUTE,
    "KustoCompute": _OTHER_COMPUTE,
    "RemoteCompute": _OTHER_COMPUTE,
    "SynapseCompute": _OTHER_COMPUTE,
    "AbstractComputeTarget": "Use ComputeTarget (or AmlCompute) from azureml.core.compute.",
    "LocalTarget": "Pass compute_target='local', or leave it out.",
    # azureml.core.runconfig, azureml.core.environment
    "Data": _RUNCONFIG_DATA,
    "DataLocation": _RUNCONFIG_DATA,
    "OutputData": _RUNCONFIG_DATA,
    "HdiConfiguration": _AZURE_ONLY,
    "HistoryConfiguration": "Run history is always kept: remove the setting.",
    "MpiConfiguration": _ONE_NODE,
    "ParallelTaskConfiguration": _ONE_NODE,
    "PyTorchConfiguration": _ONE_NODE,
    "TensorflowConfiguration": _ONE_NODE,
    "SparkConfiguration": "Spark jobs are not supported: use pandas/pyarrow in a PythonScriptStep.",
    "DockerBuildContext": _NO_IMAGES,
    "DockerImagePlatform": _NO_IMAGES,
    "ImageBuildDetails": _NO_IMAGES,
    "RCranPackage": "R environments are not supported: run Rscript from a CommandStep.",
    "RGitHubPackage": "R environments are not supported: run Rscript from a CommandStep.",
    "RSection": "R environments are not supported: run Rscript from a CommandStep.",
    "SparkSection": "Spark environments are not supported: use pandas/pyarrow in a PythonScriptStep.",
    # azureml.data
    "HDFSOutputDatasetConfig": "Use OutputFileDatasetConfig.",
    "LinkFileOutputDatasetConfig": "Use OutputFileDatasetConfig.",
    "LinkTabularOutputDatasetConfig": "Use OutputFileDatasetConfig(...).read_delimited_files().",
    # azureml.pipeline.core (.graph, .run)
    "DataSource": _GRAPH,
    "DataSourceDef": _GRAPH,
    "DataSourceNode": _GRAPH,
    "DataType": _GRAPH,
    "Edge": _GRAPH,
    "Graph": _GRAPH,
    "ModuleDef": _GRAPH,
    "ModuleNode": _GRAPH,
    "Node": _GRAPH,
    "ParamDef": _GRAPH,
    "InputPortBinding": _BIND,
    "OutputPortBinding": _BIND,
    "PipelineDataset": "Pass dataset.as_named_input(name) (or a PipelineParameter) to the step.",
    "TrainingOutput": "It selects AutoMLStep/HyperDriveStep outputs, which Headwater does not provide.",
    # azureml.pipeline.steps
    "AdlaStep": _AZURE_ONLY,
    "AutoMLStep": _AUTOML,
    "AutoMLStepRun": _AUTOML,
    "AzureBatchStep": "Run the command with a CommandStep.",
    "DatabricksStep": "Run the notebook's code as a PythonScriptStep, or keep the Databricks job outside the pipeline.",
    "EstimatorStep": "Deprecated in SDK v1: use a PythonScriptStep or CommandStep.",
    "HyperDriveStep": "Run the sweep as PythonScriptSteps with different arguments, or use a tuning library "
    "(Optuna, Ray Tune) inside one step.",
    "HyperDriveStepRun": "Run the sweep as PythonScriptSteps with different arguments, or use a tuning library "
    "(Optuna, Ray Tune) inside one step.",
    "KustoStep": _AZURE_ONLY,
    "MpiStep": _ONE_NODE,
    "RScriptStep": "Run Rscript from a CommandStep: CommandStep(command='Rscript script.R ...').",
    "SynapseSparkStep": _AZURE_ONLY,
}

#: What the docs table says about a compat-only target, by its module.
COMPAT_NOTES: dict[str, str] = {
    _AUTH: "accepted and ignored, with a one-time notice on stderr (no Azure sign-in)",
    _EXC: "an exception class Headwater never raises (catching it is harmless)",
    "headwater.compat.data_type": "column type names for `set_column_types`",
    "headwater.compat.names": "a constant",
    "headwater.compat.config_holders": "a plain settings holder: kept, not acted on",
    "headwater.compat.widgets": "a text progress view: `show()` prints the run's step table",
    "headwater.compat.entry_script": "a ParallelRunStep entry script's logger and folders",
}


def _merge_more() -> None:
    """Add :mod:`.names_more`'s modules and names: each name means what it means elsewhere in MODULES,
    else Headwater's export of that name, else a stand-in."""
    from headwater import _EXPORTS
    from headwater.compat.names_more import MORE, SPECS

    known: dict[str, str] = {}
    for entries in MODULES.values():
        for name, spec in entries.items():
            known.setdefault(name, spec)
    for module, names in MORE.items():
        entries = MODULES.setdefault(module, {})
        for name in names.split():
            spec = SPECS.get(name) or known.get(name) or (HEADWATER if name in _EXPORTS else NOT_SUPPORTED)
            entries.setdefault(name, spec)
    for module in ("azureml.core.image", "azureml.core.webservice", "azureml.train.automl"):
        MODULES[module]["__version__"] = _VERSION


_merge_more()


def advice(name: str, module: str) -> str:
    """What to use instead of ``module.name``, a name Headwater does not provide."""
    if name in INSTEAD:
        return INSTEAD[name]
    from headwater.compat.names_more import ADVICE

    prefix = module
    while prefix:
        if prefix in ADVICE:
            return ADVICE[prefix]
        prefix = prefix.rpartition(".")[0]
    return "See docs/migrating-from-sdk-v1.md for what Headwater provides."
