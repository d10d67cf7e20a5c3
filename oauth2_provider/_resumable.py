"""Schema operations of migration 0012 that can be run again after an interruption.

On MySQL and MariaDB a migration is not one transaction: every DDL statement commits on its own.
When ``migrate`` is interrupted in the middle of 0012 (most likely during the long backfill), the
database keeps the steps already done while the migration stays unapplied, and running ``migrate``
again would fail on them ("Duplicate column", "Can't DROP ... check that it exists"). These
operations compare the database with the target before acting, and start from what they find.

They produce exactly the statements of ``AddField``/``AlterField`` otherwise, and behave like them
on backends that roll back DDL (PostgreSQL, SQLite), where an interrupted 0012 leaves nothing behind.
"""

import logging
from dataclasses import dataclass

from django.db import migrations


logger = logging.getLogger("oauth2_provider.migrations")


@dataclass(frozen=True)
class _Column:
    field_type: str
    null: bool
    unique: bool


def _find_column(connection, table, column):
    """What the database says about ``table.column``, or None when the column does not exist."""
    introspection = connection.introspection
    with connection.cursor() as cursor:
        description = {row.name: row for row in introspection.get_table_description(cursor, table)}
        if column not in description:
            return None
        constraints = introspection.get_constraints(cursor, table).values()
    row = description[column]
    unique = any(c["unique"] and not c["primary_key"] and c["columns"] == [column] for c in constraints)
    return _Column(introspection.get_field_type(row.type_code, row), bool(row.null_ok), unique)


def _resumes(schema_editor):
    return not schema_editor.connection.features.can_rollback_ddl


class ResumableAddField(migrations.AddField):
    """``AddField`` that leaves a column alone when it exists already.

    Besides an interrupted earlier run on MySQL/MariaDB, ``manage.py tokenchecksum prepare`` adds the
    column before 0012 runs on PostgreSQL too (see ``oauth2_provider._online_checksum``). Not on SQLite,
    where neither happens and where reading before the first write would make the migration fail at
    once ("database is locked") instead of waiting when another connection is writing.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if schema_editor.connection.vendor != "sqlite" and self.allow_migrate_model(
            schema_editor.connection.alias, model
        ):
            column = model._meta.get_field(self.name).column
            if _find_column(schema_editor.connection, model._meta.db_table, column) is not None:
                logger.info("%s.%s exists already: resuming", model._meta.db_table, column)
                return
        super().database_forwards(app_label, schema_editor, from_state, to_state)


class ResumableAlterField(migrations.AlterField):
    """``AlterField`` that starts from the column as the database has it, not as the state says.

    If the column already matches the target, nothing is done; if only some of the statements of an
    earlier run went through (say the unique constraint was dropped but the type not yet changed),
    the alteration starts from what is there.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not _resumes(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        connection = schema_editor.connection
        to_model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(connection.alias, to_model):
            return
        from_model = from_state.apps.get_model(app_label, self.model_name)
        old_field = from_model._meta.get_field(self.name)
        new_field = to_model._meta.get_field(self.name)
        found = _find_column(connection, from_model._meta.db_table, old_field.column)
        if found is None:
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        if found == _Column(new_field.get_internal_type(), new_field.null, new_field.unique):
            logger.info("%s.%s is altered already: resuming", from_model._meta.db_table, old_field.column)
            return
        schema_editor.alter_field(from_model, _field_as_found(old_field, found, from_model), new_field)


def _field_as_found(field, found, model):
    """A copy of ``field`` whose nullability and uniqueness are the database's."""
    name, path, args, kwargs = field.deconstruct()
    kwargs["null"] = found.null
    kwargs["unique"] = found.unique
    if not found.unique:
        kwargs.pop("db_index", None)  # with the unique constraint gone, no index is left either
    copy = type(field)(*args, **kwargs)
    copy.set_attributes_from_name(name)
    copy.model = model
    return copy
