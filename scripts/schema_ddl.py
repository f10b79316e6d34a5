"""Regenerate (``--write``) or check (``--check``) the DDL that creates new workspaces' schemas.

``headwater/store/ddl/{sqlite,postgresql}.sql`` are generated from the Alembic migrations
(:mod:`headwater.store.schema_gen`). Run ``python scripts/schema_ddl.py --write`` after adding or
changing a migration; ``tests/store/test_schema_ddl.py`` fails until then.
"""

from __future__ import annotations

import argparse
import sys

from headwater.store.schema_gen import stale_files, write_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="regenerate the files")
    group.add_argument("--check", action="store_true", help="exit 1 when a file is out of date")
    args = parser.parse_args(argv)
    if args.write:
        for path in write_all():
            print(f"wrote {path}")
        return 0
    stale = stale_files()
    for path in stale:
        print(f"{path} is out of date: run python scripts/schema_ddl.py --write", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
