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

import contextlib
import logging
import sys
import time

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, router

from ._checksum import token_checksum
from ._validation import is_positive_int
from .settings import oauth2_settings


logger = logging.getLogger("oauth2_provider.migrations")

#: Seconds between two progress lines.
PROGRESS_INTERVAL_SECONDS = 5.0

# Rows per UPDATE ... CASE statement on the Python fallback, to keep the parameter count modest.
_PYTHON_WRITE_CHUNK = 500


def get_batch_size():
    """``OAUTH2_PROVIDER["TOKEN_CHECKSUM_BATCH_SIZE"]``, checked to be a positive integer."""
    size = oauth2_settings.TOKEN_CHECKSUM_BATCH_SIZE
    if not is_positive_int(size):
        raise ImproperlyConfigured(
            f"OAUTH2_PROVIDER['TOKEN_CHECKSUM_BATCH_SIZE'] must be a positive integer, not {size!r}."
        )
    return size


class _Progress:
    """Rows done out of a total, logged every ``PROGRESS_INTERVAL_SECONDS`` and once at the end."""

    def __init__(self, label, total):
        self.label = label
        self.total = total
        self.done = 0
        self.started = self.last_report = time.monotonic()

    def advance(self, rows):
        self.done += rows
        now = time.monotonic()
        if now - self.last_report >= PROGRESS_INTERVAL_SECONDS:
            self.last_report = now
            rate = self.done / max(now - self.started, 1e-9)
            remaining = max(self.total - self.done, 0)
            eta = f"{remaining / rate:.0f}s" if rate else "unknown"
            logger.info(
                "%s: %s/%s rows (%.0f%%), %.0f rows/s, ETA %s",
                self.label,
                self.done,
                self.total,
                100.0 * self.done / self.total,
                rate,
                eta,
            )

    def finish(self):
        elapsed = time.monotonic() - self.started
        logger.info(
            "%s: done, %s rows in %.1fs (%.0f rows/s)",
            self.label,
            self.done,
            elapsed,
            self.done / max(elapsed, 1e-9),
        )


class BaseBackfill:
    """Owns the keyset walk, the paging and the progress; subclasses only say how a page is hashed."""

    def __init__(self, model, connection, batch_size):
        self.model = model
        self.connection = connection
        self.batch_size = batch_size
        quote = connection.ops.quote_name
        meta = model._meta
        self.table = quote(meta.db_table)
        self.pk = quote(meta.pk.column)
        self.token = quote(meta.get_field("token").column)
        self.checksum = quote(meta.get_field("token_checksum").column)

    def run(self):
        """Fill every missing checksum; return the number of rows written."""
        self.prepare()
        total = self._count_missing()
        if not total:
            logger.debug("%s: no access token needs a checksum", self.model._meta.label)
            return 0
        progress = _Progress(f"{self.model._meta.db_table}.token_checksum backfill", total)
        lower = None
        while True:
            upper = self._page_upper_bound(lower)
            written = self.fill_page(lower, upper)
            if written:  # the open-ended last page is empty when the rows were an exact multiple
                progress.advance(written)
            if upper is None:
                break
            lower = upper
        progress.finish()
        return progress.done

    def prepare(self):
        """Hook run once before the walk, on the connection used for it."""

    def fill_page(self, lower, upper):
        """Write the checksum of the rows with ``lower < pk <= upper`` (``None``: unbounded); return rows."""
        raise NotImplementedError

    def _execute(self, sql, params=()):
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount, cursor.fetchall() if cursor.description else []

    def _count_missing(self):
        _, rows = self._execute(f"SELECT COUNT(*) FROM {self.table} WHERE {self.checksum} IS NULL")
        return rows[0][0]

    def _page_upper_bound(self, lower):
        """The pk closing the page of ``batch_size`` rows after ``lower``, or None when fewer are left.

        Only one value is fetched: the database skips over the page inside its primary key index.
        The probe deliberately ignores the checksum column: with a condition on it, PostgreSQL
        plans a sequential scan per page (measured 3.5x slower over a million rows), and pages
        that an interrupted run filled already cost one cheap UPDATE of nothing.
        """
        conditions, params = self._pk_range(lower)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        limit = self.connection.ops.limit_offset_sql(self.batch_size - 1, self.batch_size)
        sql = f"SELECT {self.pk} FROM {self.table} {where} ORDER BY {self.pk} {limit}"
        _, rows = self._execute(sql, params)
        return rows[0][0] if rows else None

    def _pk_range(self, lower, upper=None):
        """SQL conditions and params for ``lower < pk <= upper`` (either bound may be None)."""
        conditions, params = [], []
        if lower is not None:
            conditions.append(f"{self.pk} > %s")
            params.append(lower)
        if upper is not None:
            conditions.append(f"{self.pk} <= %s")
            params.append(upper)
        return conditions, params

    def _missing_in(self, lower, upper):
        """WHERE clause and params for the rows without checksum in ``lower < pk <= upper``."""
        conditions, params = self._pk_range(lower, upper)
        return " AND ".join([f"{self.checksum} IS NULL", *conditions]), params


class SQLHashBackfill(BaseBackfill):
    """One ``UPDATE`` per page, the database computing the checksum from ``hash_sql``."""

    #: SQL expression of the hex SHA-256 of the UTF-8 bytes of ``{token}``.
    hash_sql = None

    def fill_page(self, lower, upper):
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

    def fill_page(self, lower, upper):
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


class _TerminalHandler(logging.StreamHandler):
    """Starts on a fresh line: ``migrate`` has just written "Applying ...0012..." without a newline."""

    def __init__(self):
        super().__init__(sys.stderr)
        self.setFormatter(logging.Formatter("  %(message)s"))
        self._started = False

    def emit(self, record):
        if not self._started:
            self._started = True
            self.stream.write("\n")
        super().emit(record)


@contextlib.contextmanager
def _visible_progress():
    """Show progress on stderr while nothing else is set up to receive it (a plain ``migrate``)."""
    if logger.hasHandlers():
        yield
        return
    handler = _TerminalHandler()
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)


def backfill_token_checksums(model, using=DEFAULT_DB_ALIAS, batch_size=None):
    """Fill the missing ``token_checksum`` values of ``model``'s table on database ``using``.

    ``model`` is an access token model with ``token`` and ``token_checksum`` fields (a historical
    model from ``apps.get_model()`` in a migration, or the real one). Returns the rows written.
    """
    if batch_size is None:
        batch_size = get_batch_size()
    elif not is_positive_int(batch_size):
        raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}.")
    connection = connections[using]
    backfill = backfill_class_for(connection)(model, connection, batch_size)
    with _visible_progress():
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
