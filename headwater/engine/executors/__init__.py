"""Executors: how a task becomes a running process (local processes; Ray comes later)."""
