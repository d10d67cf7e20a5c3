"""Child process: migrate ``oauth2_provider`` one migration at a time and dump the schema after each.

Run as a script by the parent with the interpreter of the side under test (upstream's virtualenv or
ours), with ``DJANGO_SETTINGS_MODULE=parity_settings``. Being run from this directory, not the
repository root, it imports whichever ``oauth2_provider`` that interpreter has installed.

Arguments: the path to write JSON to and, optionally, a migration name prefix to stop after. With
``SCHEMA_PARITY_ONLINE=1`` (our side only) 0012 takes the online path: ``tokenchecksum prepare`` before
it, ``tokenchecksum finish`` after it, and the schema is dumped after ``finish``; with
``SCHEMA_PARITY_ONLINE=in-place`` (or ``copy``) ``prepare`` takes that ``--method``. Output::

    {"django": "5.2", "package": {"file": ..., "version": ...}, "migrations": [name, ...],
     "steps": [{"migration": name, "schema": {...}}, ...]}
"""

import json
import os
import sys

import django
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from introspect import dump_schema


APP = "oauth2_provider"


def migration_names(until):
    """The app's migrations in the order ``migrate`` applies them, up to the first named ``until...``."""
    graph = MigrationLoader(connection).graph
    names = [name for app, name in graph.forwards_plan(graph.leaf_nodes(APP)[0]) if app == APP]
    stops = [index for index, name in enumerate(names) if until and name.startswith(until)]
    return names[: stops[0] + 1] if stops else names


def package_origin():
    import oauth2_provider

    return {"file": oauth2_provider.__file__, "version": getattr(oauth2_provider, "__version__", None)}


def migrate_step_by_step(names):
    # Prerequisites first, in full, so each step below runs exactly one of our migrations.
    call_command("migrate", "contenttypes", verbosity=0)
    call_command("migrate", "auth", verbosity=0)
    online = os.environ.get("SCHEMA_PARITY_ONLINE", "0")
    method = {} if online in ("0", "1") else {"method": online}
    online = online != "0"
    for name in names:
        if online and name.startswith("0012"):
            call_command("tokenchecksum", "prepare", **method)
        call_command("migrate", APP, name, verbosity=0)
        if online and name.startswith("0012"):
            call_command("tokenchecksum", "finish")
        yield {"migration": name, "schema": dump_schema(connection)}


def main(output_path, until=None):
    django.setup()
    names = migration_names(until)
    result = {
        "django": django.get_version(),
        "package": package_origin(),
        "migrations": names,
        "steps": list(migrate_step_by_step(names)),
    }
    with open(output_path, "w") as output:
        json.dump(result, output, indent=1, sort_keys=True, default=str)


if __name__ == "__main__":
    main(*sys.argv[1:])
