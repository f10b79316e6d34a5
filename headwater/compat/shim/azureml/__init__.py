"""SDK v1's ``azureml`` package, served by Headwater's compatibility layer (headwater.compat)."""

from headwater.compat._loader import attach, extend_root

__path__ = extend_root(__path__)
__getattr__, __dir__, __all__ = attach(__name__)
