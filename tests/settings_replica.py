"""Settings of the read-replica tests: a primary and a lagging hot standby of our own (tests/replica_pair.py),
behind the primary/replica router of Django's documentation ("Multiple databases")."""

import os

from tests.settings import *  # noqa: F403


def _server(port):
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "dot_lts_replica",
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": port,
    }


DATABASES = {
    "default": _server(os.environ.get("DOT_TEST_REPLICA_PRIMARY_PORT", "5433")),
    "replica": _server(os.environ.get("DOT_TEST_REPLICA_STANDBY_PORT", "5434")),
}
DATABASE_ROUTERS = ["tests.settings_replica.PrimaryReplicaRouter"]
ROOT_URLCONF = "tests.replica_urls"


class PrimaryReplicaRouter:
    """Reads from the replica, writes to the primary, as Django's documentation shows it."""

    def db_for_read(self, model, **hints):
        return "replica"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
