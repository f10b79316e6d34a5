"""User-facing SDK objects: Workspace, Datastore, Dataset, ... (SDK v1 names)."""
