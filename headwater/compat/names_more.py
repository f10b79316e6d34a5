"""More of SDK v1's module paths: the names each one has that :data:`headwater.compat.names.MODULES` lacks.

Measured against the real packages (azureml-core 1.61.0.post4, azureml-pipeline-core/-steps 1.62.0,
introspected offline): for a module with ``__all__``, its ``__all__``; otherwise the public classes
and functions it defines or re-exports from a public ``azureml`` module (so
``from azureml.core.environment import CondaDependencies`` works, as code relies on). The
``azureml.train`` packages are not pinned by the issue but pipeline samples import them next to
``HyperDriveStep``/``EstimatorStep``/``AutoMLStep``: they import, and their names are stand-ins.

Which object a name stands for is decided in :mod:`headwater.compat.names`: :data:`SPECS` here,
else the meaning the name has elsewhere in ``MODULES``, else Headwater's export of that name,
else a NotSupportedError stand-in whose advice is :data:`ADVICE` for its module. Stdlib only.
"""

from __future__ import annotations

__all__ = ["ADVICE", "MORE", "SPECS"]

MORE: dict[str, str] = {
    "azureml.core.authentication": "NewLoggingLevel",
    "azureml.core.compute.amlcompute": (
        "AmlComputeNodeStateCounts AmlComputeStatus ComputeTarget ComputeTargetProvisioningConfiguration ScaleSettings"
    ),
    "azureml.core.compute.compute": (
        "ComputeTarget ComputeTargetAttachConfiguration ComputeTargetProvisioningConfiguration "
        "ComputeTargetUpdateConfiguration"
    ),
    "azureml.core.compute.computeinstance": (
        "ComputeInstanceStatus ComputeTarget ComputeTargetProvisioningConfiguration"
    ),
    "azureml.core.compute.datafactory": (
        "ComputeTarget ComputeTargetAttachConfiguration ComputeTargetProvisioningConfiguration"
    ),
    "azureml.core.container_registry": "ContainerRegistry RegistryIdentity",
    "azureml.core.resource_configuration": "ResourceConfiguration",
    "azureml.core.dataset": "FileEncoding HistogramCompareMethod PromoteHeadersBehavior SkipLinesBehavior",
    "azureml.core.environment": (
        "CondaDependencies ContainerRegistry DatabricksSection DockerEnvironment DockerImageDetails "
        "EnvironmentReference PythonEnvironment SparkEnvironment SparkPackage"
    ),
    "azureml.core.experiment": "ComputeInstance ViewType",
    "azureml.core.image": "ContainerImage Image UnknownImage",
    "azureml.core.keyvault": "Keyvault",
    "azureml.core.model": (
        "AksCompute ContainerRegistry Dataset DatasetSnapshot Environment Experiment FileDataset ModelPackage "
        "ModelProfile ResourceConfiguration TabularDataset get_run"
    ),
    "azureml.core.run": (
        "AbstractDataset DataPath Datastore Environment InputDatasets Keyvault LinkOutput OutputDatasets"
    ),
    "azureml.core.runconfig": (
        "AbstractComputeTarget ApplicationEndpointConfiguration AzureContainerRegistry ComputeTarget "
        "ContainerRegistry Cr DataPath DatabricksCluster DatabricksEnvironment DatabricksSection "
        "DatacacheConfiguration DatacacheConsumptionConfig Dataset DatasetConsumptionConfig "
        "DatasetRegistrationOptions DockerEnvironment DockerSection EggLibrary Environment "
        "EnvironmentDefinition GlobsOptions JarLibrary KubernetesComputeConfiguration MavenLibrary "
        "MountOptions OutputOptions PyPiLibrary PythonEnvironment PythonSection RCranLibrary "
        "RegistrationOptions Run SparkEnvironment SparkSection UploadOptions Uri"
    ),
    "azureml.core.script_run": "Run RunConfiguration",
    "azureml.core.script_run_config": (
        "Data DataPath DataPathComputeBinding DatacacheConfiguration DatacacheConsumptionConfig "
        "DockerConfiguration EnvironmentDefinition MpiConfiguration PyTorchConfiguration RunConfiguration "
        "TensorflowConfiguration get_run_config_from_script_run submit"
    ),
    "azureml.core.webservice": "AciWebservice AksEndpoint AksWebservice LocalWebservice UnknownWebservice Webservice",
    "azureml.core.workspace": (
        "AmlCompute ComputeTarget Dataset Image InteractiveLoginAuthentication Keyvault LinkedService Model Webservice"
    ),
    "azureml.data": "DatacacheStore",
    "azureml.data.abstract_dataset": (
        "AbstractDataset DatasetConsumptionConfig FileDatasetFactory TabularDatasetFactory"
    ),
    "azureml.data.abstract_datastore": "AbstractDatastore",
    "azureml.data.azure_storage_datastore": "AbstractAzureStorageDatastore AbstractDatastore DataReference",
    "azureml.data.azure_data_lake_datastore": (
        "AbstractADLSDatastore AbstractDatastore AzureDataLakeDatastore AzureDataLakeGen2Datastore"
    ),
    "azureml.data.azure_sql_database_datastore": "AbstractDatastore AzureSqlDatabaseDatastore",
    "azureml.data.datapath": "DataReference",
    "azureml.data.dataset_factory": (
        "AbstractDatastore AzurePostgreSqlDatastore DataPath DataReference PromoteHeadersBehavior"
    ),
    "azureml.data.dataset_type_definitions": (
        "FileEncoding FileType HistogramCompareMethod PromoteHeadersBehavior SkipLinesBehavior"
    ),
    "azureml.data.file_dataset": "AbstractDataset FileDataset",
    "azureml.data.output_dataset_config": (
        "AbstractDataset MountOptions PromoteHeadersBehavior RegistrationConfiguration TransformationMixin "
        "UploadOptions"
    ),
    "azureml.data.sql_data_reference": "DataReference SqlDataReference",
    "azureml.data.tabular_dataset": "AbstractDataset FileDataset TabularDataset",
    "azureml.exceptions": "AzureMLAggregatedException ServiceException",
    "azureml.pipeline.core.builder": (
        "AbstractDataset DataReference DataSource DataSourceDef DatasetConsumptionConfig DatasetRegistration "
        "Edge Graph InputPortBinding Node OutputDatasetConfig OutputPortBinding ParamDef PipelineData "
        "PipelineDataset PipelineOutputAbstractDataset PipelineOutputFileDataset PipelineParameter "
        "PipelineStep PortDataReference StepSequence"
    ),
    "azureml.pipeline.core.graph": (
        "AbstractDataset DataPath DataPathComputeBinding DataReference Dataset DatasetConsumptionConfig "
        "FileDataset InputPort Module OutputPort Param PipelineOutputAbstractDataset PipelineRun "
        "SqlDataReference StoredProcedureParameter StoredProcedureParameterType TabularDataset"
    ),
    "azureml.pipeline.core.module": (
        "AdlaCompute BatchCompute InputPortDef Module ModuleDef ModuleVersion ModuleVersionDescriptor "
        "OutputPortDef ParamDef PipelineParameter PipelineStep"
    ),
    "azureml.pipeline.core.module_step_base": (
        "DataReference GraphModule InputPortBinding ModuleStepBase PipelineData PipelineDataset PipelineStep "
        "PortDataReference"
    ),
    "azureml.pipeline.core.pipeline": "Pipeline",
    "azureml.pipeline.core.pipeline_draft": "PipelineDraft PipelineRun",
    "azureml.pipeline.core.pipeline_endpoint": (
        "PipelineEndpoint PipelineIdVersion PipelineRun PipelineVersion PublishedPipeline"
    ),
    "azureml.pipeline.core.pipeline_output_dataset": (
        "DatasetRegistration Datastore HDFSOutputDatasetConfig LinkFileOutputDatasetConfig "
        "LinkTabularOutputDatasetConfig OutputFileDatasetConfig OutputTabularDatasetConfig "
        "PipelineOutputAbstractDataset PipelineOutputFileDataset PipelineOutputTabularDataset "
        "PromoteHeadersBehavior"
    ),
    "azureml.pipeline.core.run": "Experiment Run ScriptRun",
    "azureml.pipeline.core.schedule": (
        "Datastore Experiment PipelineRun PublishedPipeline Schedule ScheduleRecurrence TimeZone"
    ),
    "azureml.pipeline.steps.adla_step": "AdlaStep",
    "azureml.pipeline.steps.automl_step": (
        "AutoMLConfig AutoMLRun AutoMLStep AutoMLStepRun CondaDependencies ConfigException "
        "DatasetConsumptionConfig Experiment OutputTabularDatasetConfig ParamDef PipelineData "
        "PipelineOutputTabularDataset PipelineStep RunConfiguration TabularDataset TrainingOutput"
    ),
    "azureml.pipeline.steps.azurebatch_step": "AzureBatchStep",
    "azureml.pipeline.steps.command_step": "CommandStep ScriptRunConfig",
    "azureml.pipeline.steps.data_transfer_step": "DataTransferStep",
    "azureml.pipeline.steps.databricks_step": "DatabricksStep",
    "azureml.pipeline.steps.estimator_step": "EstimatorStep PythonScriptStep",
    "azureml.pipeline.steps.hyper_drive_step": (
        "DataReference HyperDriveRun HyperDriveStep HyperDriveStepRun OutputPortBinding ParamDef PipelineData "
        "PipelineStep TrainingOutput"
    ),
    "azureml.pipeline.steps.kusto_step": "KustoStep",
    "azureml.pipeline.steps.module_step": "ModuleStep ModuleStepBase",
    "azureml.pipeline.steps.mpi_step": (
        "AmlCompute KubernetesCompute MpiStep PipelineParameter PipelineStep PythonScriptStep"
    ),
    "azureml.pipeline.steps.parallel_run_config": "ParallelRunConfig",
    "azureml.pipeline.steps.parallel_run_step": "ParallelRunStep",
    "azureml.pipeline.steps.python_script_step": "PythonScriptStep",
    "azureml.pipeline.steps.r_script_step": "RScriptStep",
    "azureml.pipeline.steps.synapse_spark_step": "SynapseSparkStep",
    "azureml.train": "",
    "azureml.train.automl": "AutoMLConfig AutoMLImageConfig get_sdk_dependencies",
    "azureml.train.dnn": "Chainer Gloo Mpi Nccl ParameterServer PyTorch TensorFlow",
    "azureml.train.estimator": "Estimator Gloo MMLBaseEstimator MMLBaseEstimatorRunConfig Mpi Nccl ParameterServer",
    "azureml.train.hyperdrive": (
        "BanditPolicy BayesianParameterSampling EarlyTerminationPolicy GridParameterSampling HyperDriveConfig "
        "HyperDriveRun HyperDriveRunConfig HyperParameterSampling MedianStoppingPolicy NoTerminationPolicy "
        "PrimaryMetricGoal RandomParameterSampling TruncationSelectionPolicy choice lognormal loguniform "
        "normal qlognormal qloguniform qnormal quniform randint uniform"
    ),
}

_DATASET = "headwater.sdk.dataset:AbstractDataset"
_CONFIG = "headwater.sdk.compute_config"

#: Names above that are Headwater objects though Headwater does not export them under that name.
SPECS: dict[str, str] = {
    "AbstractDataset": _DATASET,
    "AbstractDatastore": "headwater.sdk.datastore:Datastore",
    "AbstractAzureStorageDatastore": "headwater.sdk.datastore:_AzureStorageDatastore",
    "ComputeTargetProvisioningConfiguration": f"{_CONFIG}:ProvisioningConfiguration",
    "ScaleSettings": f"{_CONFIG}:ScaleSettings",
    "PromoteHeadersBehavior": "headwater.sdk.dataset_types:PromoteHeadersBehavior",
    "FileEncoding": "headwater.sdk.dataset_types:FileEncoding",
    "SkipLinesBehavior": "headwater.sdk.dataset_types:SkipLinesBehavior",
    "HistogramCompareMethod": "headwater.sdk.dataset_types:HistogramCompareMethod",
    # azureml.core.runconfig has its own DataPath and Dataset (settings holders); elsewhere they are Headwater's
    "DataPath": "headwater",
    "Dataset": "headwater",
    **{name: f"headwater.compat.config_holders:{name}" for name in ("RegistryIdentity", "ResourceConfiguration")},
    "PipelineIdVersion": "headwater.sdk.pipeline_endpoint:PipelineIdVersion",
    "PipelineVersion": "headwater.sdk.pipeline_endpoint:PipelineVersion",
}

_GRAPH = "SDK v1's internal pipeline-building classes: Headwater builds its graph from Pipeline(ws, steps=[...])."
_DEPLOY = "Model deployment is outside Headwater: serve the model files with a web framework of your choice."
_COMPUTE = "Only AmlCompute and ComputeInstance exist (local process pools): create an AmlCompute with that name."
_DATA = "Use Dataset.File/Tabular factories, OutputFileDatasetConfig and Blob, File, S3 or local datastores."

#: What to use instead of this module's names that Headwater does not provide (longest prefix wins).
ADVICE: dict[str, str] = {
    "azureml.core.authentication": "Azure sign-in has no local meaning: the authentication classes' headers carry "
    "the local workspace's own token.",
    "azureml.core.compute": _COMPUTE,
    "azureml.core.dataset": "Pass these options as plain values (header=True, encoding='utf8').",
    "azureml.core.environment": "Describe the environment with Environment.from_conda_specification or "
    "Environment.from_pip_requirements (Python packages only; no Docker images or Spark).",
    "azureml.core.experiment": "Use Experiment.list(ws) (archived experiments are listed with it).",
    "azureml.core.image": _DEPLOY,
    "azureml.core.model": _DEPLOY,
    "azureml.core.run": "Use Run.get_context().input_datasets / output_datasets (plain dicts of paths).",
    "azureml.core.runconfig": "RunConfiguration keeps environment, target, arguments and docker settings; "
    "other sections (Spark, Databricks, data cache, registration options) have no local meaning.",
    "azureml.core.script_run_config": "Build a ScriptRunConfig and submit it with Experiment(ws, name).submit(config).",
    "azureml.core.webservice": _DEPLOY,
    "azureml.data": _DATA,
    "azureml.data.azure_data_lake_datastore": "Azure Data Lake datastores are not supported (no local server speaks "
    "ADLS): a Gen2 account serves its filesystems as blob containers, so register it with "
    "Datastore.register_azure_blob_container(ws, name, container_name=<filesystem>, account_name=...).",
    "azureml.data.azure_sql_database_datastore": "SQL database datastores are not supported (Headwater's datastores "
    "hold files): export the tables to CSV or Parquet on a datastore and read them with Dataset.Tabular.",
    "azureml.exceptions": "Catch HeadwaterError (azureml.exceptions.AzureMLException) instead.",
    "azureml.pipeline.core": _GRAPH,
    "azureml.pipeline.steps": "Use a PythonScriptStep or a CommandStep.",
    "azureml.train": "Estimators are deprecated in SDK v1: use ScriptRunConfig, or a PythonScriptStep in a pipeline.",
    "azureml.train.automl": "AutoML is an Azure service: train with a library (scikit-learn, FLAML ...) "
    "in a PythonScriptStep.",
    "azureml.train.hyperdrive": "Run the sweep as PythonScriptSteps with different arguments, or use a tuning "
    "library (Optuna, Ray Tune) inside one step.",
}
