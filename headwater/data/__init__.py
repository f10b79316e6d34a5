"""Data access below the SDK: dataset definitions (plain JSON) and resolving them to files.

The SDK's Dataset classes and the engine both use this layer, so a step input and a user reading
a dataset see the same files, digests and errors.
"""
