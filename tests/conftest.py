import os

import pytest


# Fixtures of the authorization-server tests (users, applications, token requests).
pytest_plugins = ["tests.flow_helpers", "tests.pgbouncer"]


def _server_unreachable(backend):
    """The error text if the configured database server cannot be reached, else None.

    The driver is used directly: pytest-django does not allow Django's connections this early.
    """
    from django.conf import settings

    db = settings.DATABASES["default"]
    try:
        if backend == "postgres":
            import psycopg

            psycopg.connect(
                host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"], dbname="postgres"
            ).close()
        else:
            import MySQLdb

            MySQLdb.connect(
                host=db["HOST"], port=int(db["PORT"]), user=db["USER"], password=db["PASSWORD"]
            ).close()
    except Exception as exc:  # any driver error means the same thing here
        return f"{type(exc).__name__}: {exc}"
    return None


SWAPPED_SETTINGS = "tests.settings_swapped"


def pytest_ignore_collect(collection_path, config):
    """The swapped-model tests and the other tests need different settings: each runs only under its own."""
    if not (collection_path.name.startswith("test_") and collection_path.suffix == ".py"):
        return None
    from django.conf import settings

    swapped_run = settings.SETTINGS_MODULE == SWAPPED_SETTINGS
    return (collection_path.name == "test_cleartokens_swapped.py") != swapped_run


def pytest_sessionstart(session):
    from tests.settings import BACKEND

    if BACKEND == "sqlite":
        return
    problem = _server_unreachable(BACKEND)
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.exit(f"{BACKEND} server unreachable in CI: {problem}", returncode=3)
    banner = "!" * 78
    pytest.exit(
        f"\n{banner}\nNOT RUN: the {BACKEND} test database server is unreachable ({problem}).\n"
        f"These tests did NOT pass; start the server and run again.\n{banner}",
        returncode=0,
    )


# The versions a run tested, in its log: tox environments differ in them (tox.ini).
REPORTED_DISTRIBUTIONS = ("Django", "oauthlib", "jwcrypto", "djangorestframework")


def pytest_report_header(config):
    from importlib.metadata import version

    return "tested with " + ", ".join(f"{name} {version(name)}" for name in REPORTED_DISTRIBUTIONS)
