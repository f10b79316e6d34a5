"""SDK v1's ``azureml.datadrift.datadriftdetector``, served by Headwater (the names: headwater/compat/names.py)."""

from headwater.compat._loader import attach

__getattr__, __dir__, __all__ = attach(__name__)
