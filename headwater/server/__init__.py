"""``headwater serve``: one process with the REST API, the scheduler and the studio.

A shell like the CLI (see ARCHITECTURE.md, "The server"): routes parse and authorize, then call the
verbs in :mod:`headwater.ops` and read through the store's queries. It never reaches into the engine.
"""
