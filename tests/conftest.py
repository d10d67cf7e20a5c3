import os

import pytest
from django.db import connections


def _server_unreachable():
    """The error text if the configured database server cannot be reached, else None."""
    try:
        with connections["default"]._nodb_cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means the same thing here
        return f"{type(exc).__name__}: {exc}"
    return None


def pytest_sessionstart(session):
    from tests.settings import BACKEND

    if BACKEND == "sqlite":
        return
    problem = _server_unreachable()
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
