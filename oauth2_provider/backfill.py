"""Fill ``AccessToken.token_checksum`` for existing rows, in bounded pages, without model instances.

Migration ``0012_add_token_checksum`` runs :func:`backfill_from_migration`. A project whose
``OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL`` points to its own model can call
:func:`backfill_token_checksums` from a ``RunPython`` operation in its own migration.

The table is walked by primary key (keyset pages: ``pk > last ORDER BY pk``); each page is filled
with one ``UPDATE`` in which, where possible, the database computes the SHA-256 itself. Only rows
whose checksum is still ``NULL`` are written, so a run that was interrupted (and committed some
pages, as on MySQL/MariaDB where migrations are not transactional) is completed by running it again.
Memory does not depend on the table size: at most one primary key value is fetched per page, or a
page of tokens on backends that cannot hash in SQL.
"""

import logging

from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS, connections, router

from ._batching import KeysetWalk, batching_setting, is_positive_int, progress_on_stderr
from ._checksum import token_checksum
from .settings import oauth2_settings


# A documented logger name (docs/upgrading.rst), spelled out so that it does not follow a module's name.
logger = logging.getLogger("oauth2_provider.migrations")

# Rows per UPDATE ... CASE statement on the Python fallback, to keep the parameter count modest.
_PYTHON_WRITE_CHUNK = 500


def get_batch_size():
    """``OAUTH2_PROVIDER["TOKEN_CHECKSUM_BATCH_SIZE"]``, checked to be a positive integer."""
    return batching_setting("TOKEN_CHECKSUM_BATCH_SIZE")


class BaseBackfill(KeysetWalk):
    """Fills the missing checksums page by page; subclasses only say how a page is hashed.

    Pages that an interrupted run filled already cost one cheap UPDATE of nothing: the page bounds
    ignore the checksum column (see ``KeysetWalk.window_end``).
    """

    logger = logger

    def __init__(self, model, connection, batch_size):
        super().__init__(model, connection, batch_size)
        quote = connection.ops.quote_name
        meta = model._meta
        self.token = quote(meta.get_field("token").column)
        self.checksum = quote(meta.get_field("token_checksum").column)

    @property
    def label(self):
        return f"{self.model._meta.db_table}.token_checksum backfill"

    def count(self):
        _, rows = self._execute(f"SELECT COUNT(*) FROM {self.table} WHERE {self.checksum} IS NULL")
        return rows[0][0]

    def _missing_in(self, lower, upper):
        """WHERE clause and params for the rows without checksum in ``lower < pk <= upper``."""
        conditions, params = self.pk_range(lower, upper)
        return " AND ".join([f"{self.checksum} IS NULL", *conditions]), params


class SQLHashBackfill(BaseBackfill):
    """One ``UPDATE`` per page, the database computing the checksum from ``hash_sql``."""

    #: SQL expression of the hex SHA-256 of the UTF-8 bytes of ``{token}``.
    hash_sql = None

    def process_window(self, lower, upper):
        where, params = self._missing_in(lower, upper)
        expression = self.hash_sql.format(token=self.token)
        rowcount, _ = self._execute(
            f"UPDATE {self.table} SET {self.checksum} = {expression} WHERE {where}", params
        )
        return rowcount


class PostgreSQLBackfill(SQLHashBackfill):
    hash_sql = "encode(sha256(convert_to({token}, 'UTF8')), 'hex')"


class MySQLBackfill(SQLHashBackfill):
    # SHA2() hashes the bytes of the string in its character set: make that UTF-8 explicitly.
    hash_sql = "SHA2(CONVERT({token} USING utf8mb4), 256)"


class SQLiteBackfill(SQLHashBackfill):
    """SQLite has no SHA-256 of its own: the hash is a Python function registered on the connection."""

    function_name = "oauth2_provider_token_checksum"
    hash_sql = function_name + "({token})"

    def prepare(self):
        self.connection.ensure_connection()
        self.connection.connection.create_function(self.function_name, 1, token_checksum, deterministic=True)


class PythonBackfill(BaseBackfill):
    """For other databases: read a page of tokens, hash them here, write them back in a few statements."""

    def process_window(self, lower, upper):
        where, params = self._missing_in(lower, upper)
        _, rows = self._execute(f"SELECT {self.pk}, {self.token} FROM {self.table} WHERE {where}", params)
        written = 0
        for start in range(0, len(rows), _PYTHON_WRITE_CHUNK):
            written += self._write(rows[start : start + _PYTHON_WRITE_CHUNK])
        return written

    def _write(self, rows):
        cases = " ".join(["WHEN %s THEN %s"] * len(rows))
        placeholders = ", ".join(["%s"] * len(rows))
        params = [value for pk, token in rows for value in (pk, token_checksum(token))]
        params.extend(pk for pk, _ in rows)
        rowcount, _ = self._execute(
            f"UPDATE {self.table} SET {self.checksum} = CASE {self.pk} {cases} END "
            f"WHERE {self.pk} IN ({placeholders})",
            params,
        )
        return rowcount


BACKFILL_BY_VENDOR = {
    "postgresql": PostgreSQLBackfill,
    "mysql": MySQLBackfill,
    "sqlite": SQLiteBackfill,
}


def backfill_class_for(connection):
    """The backfill class for ``connection``'s database vendor (``PythonBackfill`` if none is specific)."""
    return BACKFILL_BY_VENDOR.get(connection.vendor, PythonBackfill)


def backfill_token_checksums(model, using=DEFAULT_DB_ALIAS, batch_size=None, pause=0):
    """Fill the missing ``token_checksum`` values of ``model``'s table on database ``using``.

    ``model`` is an access token model with ``token`` and ``token_checksum`` fields (a historical
    model from ``apps.get_model()`` in a migration, or the real one). ``pause`` is the seconds to
    wait between two pages (outside a transaction each page commits on its own, so this leaves the
    database, and replicas applying the pages, room for other work). Returns the rows written.
    """
    if batch_size is None:
        batch_size = get_batch_size()
    elif not is_positive_int(batch_size):
        raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}.")
    connection = connections[using]
    backfill = backfill_class_for(connection)(model, connection, batch_size)
    backfill.pause = pause
    with progress_on_stderr(logger, fresh_line=True):
        return backfill.run()


def _has_checksum_column(model, connection):
    try:
        column = model._meta.get_field("token_checksum").column
    except FieldDoesNotExist:
        return False
    with connection.cursor() as cursor:
        if model._meta.db_table not in connection.introspection.table_names(cursor):
            return False
        description = connection.introspection.get_table_description(cursor, model._meta.db_table)
    return any(col.name == column for col in description)


def backfill_from_migration(apps, schema_editor):
    """The ``RunPython`` step of migration 0012, on the database the migration runs against."""
    label = oauth2_settings.ACCESS_TOKEN_MODEL
    alias = schema_editor.connection.alias
    try:
        model = apps.get_model(label)
    except LookupError:
        model = None
    if model is not None and not router.allow_migrate_model(alias, model):
        return
    if model is None or not _has_checksum_column(model, schema_editor.connection):
        logger.warning(
            "Access token model %s has no token_checksum column yet on database %r, so migration "
            "oauth2_provider 0012 cannot fill it. Add the column in your own migration and fill it "
            "there with oauth2_provider.backfill.backfill_token_checksums(model, using=schema_editor."
            "connection.alias) before making it unique.",
            label,
            alias,
        )
        return
    backfill_token_checksums(model, using=alias)
