"""Executors: how a task becomes a running process — local subprocesses, or subprocesses inside Ray tasks."""
