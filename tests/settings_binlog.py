"""Settings of the binary-logging tests: a MariaDB of our own with log_bin on (tests/mariadb_binlog.py),
used as ``app``, a user with every privilege on its database and no SUPER, as hosting gives it, and its
replica, watched as ``watcher`` (who may read the replica's status)."""

import os

from tests.settings import *  # noqa: F403


def _server(user, port_variable="DOT_TEST_BINLOG_PORT"):
    return {
        "ENGINE": "django.db.backends.mysql",
        "NAME": "dot_lts_binlog",
        "USER": user,
        "HOST": "127.0.0.1",
        "PORT": os.environ.get(port_variable, "3307"),
        "OPTIONS": {"charset": "utf8mb4"},
    }


# "admin" only changes the server's settings between steps, as an operator would.
DATABASES = {
    "default": _server("app"),
    "admin": _server("admin"),
    "replica": _server("watcher", "DOT_TEST_BINLOG_REPLICA_PORT"),
    # The replica as a user who may read its tables and nothing else.
    "replica_unwatched": _server("app", "DOT_TEST_BINLOG_REPLICA_PORT"),
}
