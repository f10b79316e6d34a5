"""Verbs shared by the SDK, the CLI and the server: submit, cancel, ..."""
