"""``python -m schema_parity``: compare the schema after each migration with upstream's, per backend."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from compat.upstream_venv import UPSTREAM_VERSION, default_location
from compat.upstream_venv import upstream_python as build_upstream_python

from .compare import describe, differences
from .databases import BACKENDS, ServerUnreachable, scratch_database


CHILD_DIR = Path(__file__).resolve().parent / "child"


class ChildFailed(Exception):
    """A side's child process exited non-zero (a migration or the dump failed)."""


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m schema_parity", description=__doc__)
    parser.add_argument(
        "--db", action="append", choices=BACKENDS, help="backend to check (repeatable; default: all three)"
    )
    parser.add_argument(
        "--until", metavar="PREFIX", help="stop after the first migration whose name starts with PREFIX"
    )
    parser.add_argument(
        "--db-prefix",
        default=f"{os.environ.get('DOT_TEST_DB_NAME', 'schema')}_parity",
        help="scratch databases are PREFIX_up and PREFIX_ours (default: $DOT_TEST_DB_NAME_parity)",
    )
    parser.add_argument(
        "--upstream-venv", type=Path, default=default_location(), help="where the upstream virtualenv lives"
    )
    return parser.parse_args(argv)


def _child_environment(database, online=False):
    environment = dict(os.environ, DJANGO_SETTINGS_MODULE="parity_settings")
    environment["SCHEMA_PARITY_DATABASE"] = json.dumps(database)
    # True: prepare's default method; a string: that method (``--method``).
    environment["SCHEMA_PARITY_ONLINE"] = online if isinstance(online, str) else ("1" if online else "0")
    return environment


def _run_child(python, arguments, database, workdir, online=False):
    # -E ignores PYTHONPATH and friends: a PYTHONPATH pointing at this checkout would make the upstream
    # interpreter import our oauth2_provider and compare us with ourselves.
    return subprocess.run(
        [str(python), "-E", *arguments],
        cwd=workdir,
        env=_child_environment(database, online),
        capture_output=True,
        text=True,
    )


def makemigrations_is_clean():
    """Our models match our migrations: ``makemigrations --check`` finds nothing to write."""
    with scratch_database("sqlite", "makemigrations") as database:
        # Run from the child directory, which ``-m`` puts on sys.path, so parity_settings imports.
        command = ["-m", "django", "makemigrations", "--check", "--dry-run", "oauth2_provider"]
        result = _run_child(sys.executable, command, database, CHILD_DIR)
    if result.returncode == 0:
        print("schema-parity makemigrations: no changes, models match migrations")
        return True
    print("schema-parity makemigrations: FAILED, models and migrations disagree:")
    print(result.stdout + result.stderr)
    return False


def dump_side(python, database, until, online=False):
    """Run the migrate-and-dump child with ``python``; return its JSON result.

    ``online``: our side takes the rolling-deploy path through 0012 (``tokenchecksum prepare``,
    ``migrate``, ``tokenchecksum finish``), whose end state must be upstream's too; a string names
    ``prepare``'s method (on MariaDB the default is the table copy, "in-place" the other one).
    """
    with tempfile.TemporaryDirectory(prefix="schema_parity_") as workdir:
        output = Path(workdir) / "schema.json"
        arguments = [str(CHILD_DIR / "dump_schema.py"), str(output), *([until] if until else [])]
        result = _run_child(python, arguments, database, workdir, online)
        if result.returncode != 0:
            raise ChildFailed(f"{python} failed to migrate and dump:\n{result.stdout}{result.stderr}")
        return json.loads(output.read_text())


def misplaced_packages(upstream, ours, upstream_venv):
    """Problems with where each side's oauth2_provider came from; a comparison is void unless empty."""
    problems = []
    venv_root = upstream_venv.resolve()
    if not Path(upstream["package"]["file"]).resolve().is_relative_to(venv_root):
        problems.append(f"upstream side imported {upstream['package']['file']}, outside {venv_root}")
    if Path(ours["package"]["file"]).resolve().is_relative_to(venv_root):
        problems.append(f"our side imported {ours['package']['file']}, from the upstream virtualenv")
    if upstream["django"] != ours["django"]:
        problems.append(f"Django differs: upstream side {upstream['django']}, ours {ours['django']}")
    return problems


def compare_steps(backend, upstream, ours):
    """Print the differences after each migration; return the number of migrations that differ."""
    differing = 0
    for up_step, our_step in zip(upstream["steps"], ours["steps"], strict=False):
        if up_step["migration"] != our_step["migration"]:
            print(
                f"schema-parity {backend}: migration order differs: upstream applies "
                f"{up_step['migration']}, ours {our_step['migration']}; stopping here"
            )
            return differing + 1
        found = list(differences(up_step["schema"], our_step["schema"]))
        if found:
            differing += 1
            print(f"schema-parity {backend}: after {up_step['migration']}, {len(found)} difference(s):")
            print("\n".join(describe(found)))
    return differing


def missing_migrations(upstream, ours):
    """Lines naming migrations that only one side applied."""
    up_names, our_names = upstream["migrations"], ours["migrations"]
    return [f"  only upstream has {name}" for name in up_names if name not in our_names] + [
        f"  only ours has {name}" for name in our_names if name not in up_names
    ]


def report_unreachable(backend, error):
    """A backend we could not check is never a pass; under CI it is a plain failure."""
    if os.environ.get("CI", "").lower() == "true":
        print(f"schema-parity {backend}: FAILED, database server unreachable (CI=true): {error}")
        return
    banner = "!" * 78
    print(f"{banner}\n!! schema-parity {backend}: NOT RUN, database server unreachable\n!! {error}\n{banner}")
    print(f"schema-parity {backend}: NOT RUN")


def check_backend(backend, upstream_python, arguments):
    """Compare upstream and ours on one backend; return True only if the schemas matched at every step."""
    try:
        with (
            scratch_database(backend, f"{arguments.db_prefix}_up") as upstream_database,
            scratch_database(backend, f"{arguments.db_prefix}_ours") as our_database,
            scratch_database(backend, f"{arguments.db_prefix}_online") as online_database,
        ):
            upstream = dump_side(upstream_python, upstream_database, arguments.until)
            ours = dump_side(sys.executable, our_database, arguments.until)
            ours_online = dump_side(sys.executable, online_database, arguments.until, online=True)
            online_paths = [("tokenchecksum prepare/finish", ours_online)]
            if backend == "mysql":
                # MariaDB's default is the table copy: the in-place method must end at upstream's too.
                with scratch_database(backend, f"{arguments.db_prefix}_inplace") as in_place_db:
                    in_place = dump_side(sys.executable, in_place_db, arguments.until, online="in-place")
                online_paths.append(("tokenchecksum prepare --method in-place/finish", in_place))
    except ServerUnreachable as error:
        report_unreachable(backend, error)
        return False
    except ChildFailed as error:
        print(f"schema-parity {backend}: FAILED, {error}")
        return False
    print(
        f"schema-parity {backend}: upstream {upstream['package']['version']} from "
        f"{upstream['package']['file']}; ours {ours['package']['version']} from {ours['package']['file']}"
    )
    problems = misplaced_packages(upstream, ours, arguments.upstream_venv)
    if problems:
        print(f"schema-parity {backend}: FAILED, comparison void:\n  " + "\n  ".join(problems))
        return False
    differing = compare_steps(backend, upstream, ours)
    for path, dumped in online_paths:
        online_differing = compare_steps(f"{backend} ({path})", upstream, dumped)
        print(
            f"schema-parity {backend}: the online path ({path}, with migrate between) "
            + (
                "identical at every step"
                if not online_differing
                else f"differs after {online_differing} migrations"
            )
        )
        differing += online_differing
    missing = missing_migrations(upstream, ours)
    if missing:
        print(f"schema-parity {backend}: the migration lists differ:\n" + "\n".join(missing))
    compared = min(len(upstream["steps"]), len(ours["steps"]))
    verdict = "identical" if not (differing or missing) else f"{differing} differ, {len(missing)} unmatched"
    print(f"schema-parity {backend}: {compared} migrations compared, {verdict}")
    return verdict == "identical"


def main(argv=None):
    arguments = parse_arguments(argv)
    print(f"schema-parity: upstream django-oauth-toolkit {UPSTREAM_VERSION} vs ours")
    clean = makemigrations_is_clean()
    upstream_python = build_upstream_python(
        arguments.upstream_venv, log=lambda message: print(f"schema-parity: {message}")
    )
    results = [check_backend(backend, upstream_python, arguments) for backend in arguments.db or BACKENDS]
    return 0 if clean and all(results) else 1
