"""Settings of the binary-logging tests: a MariaDB of our own with log_bin on (tests/mariadb_binlog.py),
used as ``app``, a user with every privilege on its database and no SUPER, as hosting gives it."""

import os

from tests.settings import *  # noqa: F403


def _server(user):
    return {
        "ENGINE": "django.db.backends.mysql",
        "NAME": "dot_lts_binlog",
        "USER": user,
        "HOST": "127.0.0.1",
        "PORT": os.environ.get("DOT_TEST_BINLOG_PORT", "3307"),
        "OPTIONS": {"charset": "utf8mb4"},
    }


# "admin" only changes the server's settings between steps, as an operator would.
DATABASES = {"default": _server("app"), "admin": _server("admin")}
