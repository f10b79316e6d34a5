"""SDK v1's ``azureml.datadrift.alert_configuration``, served by Headwater (the names: headwater/compat/names.py)."""

from headwater.compat._loader import attach

__getattr__, __dir__, __all__ = attach(__name__)
