"""One meaning for "backend" in the store: where a datastore's files are (``DatastoreBackend``).

The metadata database's DB-API wrappers are connections (:mod:`headwater.store.db`).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import headwater.store
from headwater.store.datastores import DatastoreBackend


def _store_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(headwater.store.__path__, "headwater.store."):
        if ".migrations" in info.name:  # Alembic runs these, nothing imports them
            continue
        names.append(info.name)
    return names


def test_every_backend_class_in_the_store_is_a_datastore_backend() -> None:
    wrong = []
    for name in _store_modules():
        module = importlib.import_module(name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == name and "Backend" in cls_name and not issubclass(cls, DatastoreBackend):
                wrong.append(f"{name}.{cls_name}")
    assert not wrong, f"classes named Backend that are not datastore backends: {wrong}"


def test_no_store_module_is_named_backends() -> None:
    assert "headwater.store.backends" not in _store_modules()
