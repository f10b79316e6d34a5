"""The opt-in ``azureml`` compatibility layer: SDK v1 code runs on Headwater with its imports unchanged.

``shim/azureml/`` is a real ``azureml`` package whose modules serve, by name, the objects Headwater
exports (``azureml.core.Workspace is headwater.Workspace``). It is active only where its folder is
on ``sys.path`` (:mod:`headwater.compat.activate`), so installing Headwater never shadows a real
``azureml-core``. Which name means what is data, in :mod:`headwater.compat.names`; names SDK v1
has but Headwater does not provide are stand-ins that raise NotSupportedError when used
(:mod:`headwater.compat.placeholders`).

Everything here is stdlib-only, like :mod:`headwater.runtime`: a step script that imports
``azureml.core.Run`` loads no third-party package. Nothing is imported by this ``__init__``.
"""
