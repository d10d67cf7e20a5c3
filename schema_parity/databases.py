"""Connection settings per backend and the scratch databases each side migrates.

Server coordinates follow the test suite's variables (``DOT_TEST_PG_*``, ``DOT_TEST_MYSQL_*``), so one
set of environment variables points both at the same servers.
"""

import contextlib
import os
import tempfile
from pathlib import Path


BACKENDS = ("sqlite", "postgres", "mysql")


class ServerUnreachable(Exception):
    """The database server refused or never answered the connection."""


def _postgres_server():
    return {
        "HOST": os.environ.get("DOT_TEST_PG_HOST", "127.0.0.1"),
        "PORT": os.environ.get("DOT_TEST_PG_PORT", "5432"),
        "USER": os.environ.get("DOT_TEST_PG_USER", "postgres"),
        "PASSWORD": os.environ.get("DOT_TEST_PG_PASSWORD", ""),
    }


def _mysql_server():
    return {
        "HOST": os.environ.get("DOT_TEST_MYSQL_HOST", "127.0.0.1"),
        "PORT": os.environ.get("DOT_TEST_MYSQL_PORT", "3306"),
        "USER": os.environ.get("DOT_TEST_MYSQL_USER", "root"),
        "PASSWORD": os.environ.get("DOT_TEST_MYSQL_PASSWORD", ""),
    }


def _postgres_admin(server, statements):
    import psycopg

    try:
        connection = psycopg.connect(
            host=server["HOST"],
            port=server["PORT"],
            user=server["USER"],
            password=server["PASSWORD"],
            dbname="postgres",
            autocommit=True,
            connect_timeout=10,
        )
    except psycopg.OperationalError as error:
        raise ServerUnreachable(f"PostgreSQL at {server['HOST']}:{server['PORT']}: {error}") from error
    with connection:
        for statement in statements:
            connection.execute(statement)


def _mysql_admin(server, statements):
    import MySQLdb

    try:
        connection = MySQLdb.connect(
            host=server["HOST"],
            port=int(server["PORT"]),
            user=server["USER"],
            passwd=server["PASSWORD"],
            connect_timeout=10,
        )
    except MySQLdb.OperationalError as error:
        raise ServerUnreachable(f"MySQL at {server['HOST']}:{server['PORT']}: {error}") from error
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        connection.close()


@contextlib.contextmanager
def scratch_database(backend, name):
    """Yield Django ``DATABASES['default']`` settings for a new, empty database, dropped on exit.

    ``name`` must be a plain identifier; it is interpolated into CREATE/DROP DATABASE.
    """
    if not name.isidentifier():
        raise ValueError(f"database name {name!r} is not a plain identifier")
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"{name}_") as directory:
            yield {"ENGINE": "django.db.backends.sqlite3", "NAME": str(Path(directory) / f"{name}.sqlite3")}
        return
    if backend == "postgres":
        server, admin, engine = _postgres_server(), _postgres_admin, "postgresql"
        create = f'CREATE DATABASE "{name}"'
        drop = f'DROP DATABASE IF EXISTS "{name}"'
        options = {}
    elif backend == "mysql":
        server, admin, engine = _mysql_server(), _mysql_admin, "mysql"
        create = f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        drop = f"DROP DATABASE IF EXISTS `{name}`"
        options = {"OPTIONS": {"charset": "utf8mb4"}}
    else:
        raise ValueError(f"unknown backend {backend!r}")
    # A leftover from an interrupted run is dropped first, so every run starts from nothing.
    admin(server, [drop, create])
    try:
        yield {"ENGINE": f"django.db.backends.{engine}", "NAME": name, **server, **options}
    finally:
        admin(server, [drop])
