"""Model deployment (``deploy``, ``package``, ``profile``): not Headwater's; each says what to do instead."""

from __future__ import annotations

from typing import Any, NoReturn

from headwater.errors import NotSupportedError

__all__ = ["ModelDeployment"]

_DEPLOY = (
    "Model deployment is outside Headwater: load the model with Model.get_model_path(name) in a step "
    "(a ParallelRunStep for batch scoring), or serve the downloaded files with a web framework of your choice."
)


class ModelDeployment:
    """SDK v1's deployment members of ``Model``, refused with advice."""

    # -- deployment: not Headwater's -----------------------------------------------------------

    @staticmethod
    def _no_deploy(member: str) -> NoReturn:
        raise NotSupportedError(f"Model.{member} is not supported by Headwater.", hint=_DEPLOY)

    @staticmethod
    def deploy(
        workspace: Any,
        name: Any,
        models: Any,
        inference_config: Any = None,
        deployment_config: Any = None,
        deployment_target: Any = None,
        overwrite: bool = False,
        show_output: bool = False,
    ) -> NoReturn:
        """Not supported: Headwater deploys no web services."""
        ModelDeployment._no_deploy("deploy")

    @staticmethod
    def package(
        workspace: Any,
        models: Any,
        inference_config: Any = None,
        generate_dockerfile: bool = False,
        image_name: Any = None,
        image_label: Any = None,
    ) -> NoReturn:
        """Not supported: Headwater builds no images."""
        ModelDeployment._no_deploy("package")

    @staticmethod
    def profile(
        workspace: Any,
        profile_name: Any,
        models: Any,
        inference_config: Any,
        input_dataset: Any,
        cpu: Any = None,
        memory_in_gb: Any = None,
        description: Any = None,
    ) -> NoReturn:
        """Not supported: Headwater profiles no web services."""
        ModelDeployment._no_deploy("profile")

    @staticmethod
    def print_configuration(
        models: Any, inference_config: Any, deployment_config: Any, deployment_target: Any
    ) -> NoReturn:
        """Not supported: Headwater deploys no web services."""
        ModelDeployment._no_deploy("print_configuration")
