"""The engine: one orchestrator per pipeline run, its executors, and ingesting step events.

It works on plans and store records, never on SDK objects (nothing here imports
``headwater.sdk``). Step processes never open the metadata store; they write events as JSON lines
into their run folders and :mod:`headwater.engine.ingest` applies them.
"""
