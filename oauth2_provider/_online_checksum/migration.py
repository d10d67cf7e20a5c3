"""Migration 0012's hooks, and which online steps apply to a database."""

import contextlib

from django.db import DatabaseError, connections, router

from .. import backfill
from .._replica_lag import replica_throttle
from .._resumable import ResumableAlterField
from ..settings import oauth2_settings
from .base import (
    APP,
    MIGRATION,
    OWN_MODEL,
    Refused,
    get_migration_lock_timeout,
    logger,
)
from .mysql import NOT_NULL_ATTEMPTS, MySQLOnline, left_a_null
from .postgresql import PostgreSQLOnline
from .sqlite import SQLiteOnline


ONLINE_BY_VENDOR = {"postgresql": PostgreSQLOnline, "mysql": MySQLOnline, "sqlite": SQLiteOnline}


def online_for(alias):
    """The online steps for database ``alias`` on oauth2_provider's own access token table."""
    from django.apps import apps

    if oauth2_settings.ACCESS_TOKEN_MODEL != OWN_MODEL:
        raise Refused(
            f"OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL is {oauth2_settings.ACCESS_TOKEN_MODEL}: tokenchecksum only "
            f"knows {OWN_MODEL}'s table. Give your model its token_checksum column in your own migrations "
            "(nullable, filled with oauth2_provider.backfill.backfill_token_checksums, then unique)."
        )
    connection = connections[alias]
    cls = ONLINE_BY_VENDOR.get(connection.vendor)
    if cls is None:
        raise Refused(
            f"tokenchecksum supports PostgreSQL, MySQL/MariaDB and SQLite, not {connection.vendor}."
        )
    return cls(connection, apps.get_model(OWN_MODEL))


def _migration_online(schema_editor, model):
    """The online steps for 0012's hooks, or None where they do not apply (swapped model, other vendor,
    a database the router keeps the table away from)."""
    connection = schema_editor.connection
    if model._meta.swapped or connection.vendor not in ONLINE_BY_VENDOR:
        return None
    if not router.allow_migrate_model(connection.alias, model):
        return None
    return ONLINE_BY_VENDOR[connection.vendor](connection, model)


@contextlib.contextmanager
def applying_0012(state_after, schema_editor):
    """0012's operations run inside. What a plain run must say about the table is said before any lock;
    then, with ``TOKEN_CHECKSUM_MIGRATION_LOCK_TIMEOUT`` set, its locks are waited for at most that long.

    ``state_after`` is the project state 0012 leaves, whose model has the checksum field.
    """
    online = _migration_online(schema_editor, state_after.apps.get_model(APP, "AccessToken"))
    if online is None or schema_editor.collect_sql:  # sqlmigrate: nothing runs
        yield
        return
    seconds = get_migration_lock_timeout()
    online.before_plain_migration()
    # Where 0012's pages commit one by one (MySQL/MariaDB), replicas that cannot tell their lag are refused
    # before its first change rather than at its backfill.
    replica_throttle(schema_editor.connection)
    if seconds is None:
        yield
        return
    with online.migration_lock_wait(seconds):
        yield


def fill_from_migration(apps, schema_editor):
    """0012's backfill step: nothing to do on a prepared table, else the trigger or the warning first."""
    online = _migration_online(schema_editor, apps.get_model(APP, "AccessToken"))
    if online is not None and online.column_state() is not None:
        if online.filled_proven():
            logger.info("%s: every row has its checksum (prepared): nothing to fill", online.db_table)
            return
        online.begin_plain_migration()
    backfill.backfill_from_migration(apps, schema_editor)


def unfill_from_migration(apps, schema_editor):
    """Unapplying 0012's backfill step: the objects of ``prepare`` go before the column does."""
    online = _migration_online(schema_editor, apps.get_model(APP, "AccessToken"))
    if online is not None and online.column_state() is not None:
        online.remove_in_migration()


class FilledAlterField(ResumableAlterField):
    """0012's last step: the checksum becomes NOT NULL and unique, with no row left behind.

    On a prepared table it only adopts what ``prepare`` built. On MySQL/MariaDB, where old code may
    insert between the backfill and this statement, a trigger fills the rows it writes; where none could be
    created, those rows are filled first, and again whenever the statement still meets one.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        online = _migration_online(schema_editor, model)
        if online is None or not self.allow_migrate_model(schema_editor.connection.alias, model):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        if online.before_not_null(schema_editor):
            return
        # With a trigger, no row can lack a checksum after the backfill: a second pass over the table would
        # only read it again.
        fill = schema_editor.connection.vendor == "mysql" and not online.fills_new_rows()
        for attempt in range(1, NOT_NULL_ATTEMPTS + 1):
            if fill:
                backfill.backfill_token_checksums(model, using=schema_editor.connection.alias)
            try:
                super().database_forwards(app_label, schema_editor, from_state, to_state)
                break
            except DatabaseError as error:
                if not left_a_null(error) or attempt == NOT_NULL_ATTEMPTS:
                    raise
                logger.info("a row without checksum was inserted meanwhile: filling it, then retrying")
                fill = True
        online.after_not_null()

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        # Unapplying 0012 drops prepare's triggers in its next step: refuse here, before the first change,
        # rather than stop halfway with the unique index gone and 0012 still recorded.
        online = _migration_online(schema_editor, to_state.apps.get_model(app_label, self.model_name))
        if online is not None and (
            online.has_trigger(online.trigger) or online.has_trigger(online.migration_trigger)
        ):
            online.refuse_without_trigger_privileges(f"unapplying {MIGRATION} drops")
        # AlterField runs its forwards with the states swapped; none of the above applies then.
        ResumableAlterField.database_forwards(self, app_label, schema_editor, from_state, to_state)
