"""Stores: the metadata repository (SQLite/PostgreSQL) and datastore backends (fsspec)."""
