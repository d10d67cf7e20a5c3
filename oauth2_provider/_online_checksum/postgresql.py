"""PostgreSQL's SQL for the online path: a trigger function, concurrent index builds, a validated check."""

import contextlib
import functools
import math

from django.db import DatabaseError, transaction

from .. import backfill
from . import base
from .base import (
    MIGRATION,
    MIGRATION_LOCK_ATTEMPTS,
    ONLINE_DOCS,
    PREFIX,
    BaseOnline,
    _when,
    logger,
)


# PostgreSQL with this many rows (catalog estimate) makes plain ``migrate`` log a warning before the
# backfill, and the rate at which the locked migration goes through them. The rate is the whole of 0012
# per row, measured on 2 cores (1,000,000 tokens in 12.3 s, docs/upgrading.rst "Measured").
LARGE_TABLE_ROWS = 100_000
PLAIN_MIGRATE_ROWS_PER_SECOND = 80_000


class PostgreSQLOnline(BaseOnline):
    check = f"{PREFIX}not_null"

    def __init__(self, connection, model):
        super().__init__(connection, model)
        self.like_index = self.django_index_name("_like")
        self.function = connection.ops.quote_name(f"{PREFIX}fill_{self.db_table}"[:63])

    def indexes(self):
        return [*super().indexes(), (self.like_index, "LIKE on token_checksum")]

    def has_trigger(self, name):
        sql = "SELECT 1 FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname = %s AND NOT tgisinternal"
        return self._scalar(sql, [self.table, name]) is not None

    def index_state(self, name):
        sql = (
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = %s::regclass AND c.relname = %s"
        )
        valid = self._scalar(sql, [self.table, name])
        return None if valid is None else ("valid" if valid else "invalid")

    def check_state(self):
        sql = "SELECT convalidated FROM pg_constraint WHERE conrelid = %s::regclass AND conname = %s"
        validated = self._scalar(sql, [self.table, self.check])
        return None if validated is None else ("validated" if validated else "not validated")

    def filled_proven(self):
        return self.check_state() == "validated" or super().filled_proven()

    def has_extras(self):
        return super().has_extras() or self.check_state() is not None

    def extra_status(self):
        return [f"check {self.check} (token_checksum IS NOT NULL): {self.check_state() or 'absent'}"]

    def extra_helpers_left(self):
        return [self.check] if self.check_state() is not None else []

    @contextlib.contextmanager
    def lock_wait_limited(self, seconds):
        # Only ever for the transaction (SET LOCAL, nothing to reset): behind a transaction pooler
        # (PgBouncer) a session setting stays on whichever server connection it reached and is served to
        # other clients of the pool. The statements that cannot run in a transaction (CREATE/DROP INDEX
        # CONCURRENTLY) need none: they wait with a SHARE UPDATE EXCLUSIVE lock, which no read or write of
        # the site conflicts with.
        if self.connection.in_atomic_block:
            # In whole milliseconds, at least one: PostgreSQL reads 0 as "no timeout".
            self._execute(f"SET LOCAL lock_timeout = '{max(1, math.ceil(seconds * 1000))}ms'")
        yield

    def is_lock_timeout(self, error):
        return getattr(error.__cause__, "sqlstate", None) == "55P03"

    def _locked_ddl(self, *statements, seconds=None):
        with (
            transaction.atomic(using=self.connection.alias),
            self.lock_wait_limited(seconds or base.DDL_LOCK_TIMEOUT_SECONDS),
        ):
            for statement in statements:
                self._execute(statement)

    UNAPPLIED = f"Nothing was changed: {MIGRATION} rolled back and is not applied."
    # What a session in each state of pg_stat_activity is doing while it holds its lock.
    SESSION_KINDS = {
        "idle in transaction": "a transaction left open, idle",
        "idle in transaction (aborted)": "a failed transaction not rolled back yet",
        "active": "a statement still running",
    }

    @contextlib.contextmanager
    def migration_lock_wait(self, seconds):
        """0012 takes its ACCESS EXCLUSIVE lock first, under ``SET LOCAL lock_timeout``: from then on it
        waits for nothing on the table until it commits, and the setting ends with its transaction.

        Each attempt runs in a savepoint, so that a lock timeout leaves 0012's transaction usable; before
        the lock nothing is changed, so trying again is safe.
        """
        explained = functools.partial(self.lock_not_granted, seconds)
        self._ddl(
            lambda: self._locked_ddl(f"LOCK TABLE {self.table} IN ACCESS EXCLUSIVE MODE", seconds=seconds),
            seconds,
            MIGRATION_LOCK_ATTEMPTS,
            explained,
        )
        yield

    def lock_holders(self):
        sql = (
            "SELECT a.pid, l.mode, a.state, a.xact_start, a.query_start, a.query "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'relation' AND l.relation = %s::regclass AND l.granted "
            "AND l.pid <> pg_backend_pid() ORDER BY a.xact_start LIMIT 5"
        )
        with self.connection.cursor() as cursor:
            cursor.execute(sql, [self.table])
            rows = cursor.fetchall()
        # Another user's session shows NULLs here to a user without pg_read_all_stats.
        return [
            f"PostgreSQL pid {pid} ({mode}), {self.SESSION_KINDS.get(state, state or 'unknown')}, "
            f"transaction started {_when(xact_start)}, last statement started {_when(query_start)}: "
            f"{(query or '')[:100]!r}; end it with SELECT pg_terminate_backend({pid})"
            for pid, mode, state, xact_start, query_start, query in rows
        ]

    def create_trigger(self, name):
        # The token is read through to_jsonb(NEW), not as NEW.token: PL/pgSQL caches, per session, the plan
        # of every expression with the types of the fields it reads, and once 0012 turns token from
        # varchar into text every session that fired the trigger before would fail its next INSERT ("type
        # of parameter ... does not match that when preparing the plan"). The row type itself stays.
        token = f"(to_jsonb(NEW) ->> '{self.token_column}')"
        old_token = f"(to_jsonb(OLD) ->> '{self.token_column}')"
        checksum, old_checksum = f"NEW.{self.checksum}", f"OLD.{self.checksum}"
        self._locked_ddl(
            f"CREATE OR REPLACE FUNCTION {self.function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            # An UPDATE that sets the checksum comes from the backfill or from new code, which both compute
            # it from the token: trusting it keeps the backfill from hashing every row twice.
            f"IF TG_OP = 'UPDATE' AND {checksum} IS NOT NULL AND ({checksum} IS DISTINCT FROM {old_checksum} "
            f"OR {token} IS NOT DISTINCT FROM {old_token}) THEN RETURN NEW; END IF; "
            f"{checksum} := {backfill.PostgreSQLBackfill.hash_sql.format(token=token)}; RETURN NEW; END $$",
            # No column list (UPDATE OF token): it would stop 0012 from changing the column's type.
            f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON {self.table} "
            f"FOR EACH ROW EXECUTE FUNCTION {self.function}()",
        )

    def drop_trigger(self, name):
        statements = [f"DROP TRIGGER IF EXISTS {name} ON {self.table}"]
        others = {self.trigger, self.migration_trigger} - {name}
        if not any(self.has_trigger(other) for other in others):
            statements.append(f"DROP FUNCTION IF EXISTS {self.function}()")
        self._locked_ddl(*statements)

    def prove_filled(self, say):
        state = self.check_state()
        if state == "validated":
            return
        if state is None:
            say(f"adding check {self.check} (NOT VALID: no scan, checks new rows only)")
            self._ddl(
                lambda: self._locked_ddl(
                    f"ALTER TABLE {self.table} ADD CONSTRAINT {self.check} "
                    f"CHECK ({self.checksum} IS NOT NULL) "
                    "NOT VALID"
                )
            )
        say(f"validating check {self.check} (reads the table, does not block writes)")
        try:
            self._ddl(lambda: self._locked_ddl(f"ALTER TABLE {self.table} VALIDATE CONSTRAINT {self.check}"))
        except DatabaseError:
            # A row without checksum: written before the trigger by something the backfill did not see.
            self.fill(say)
            self._ddl(lambda: self._locked_ddl(f"ALTER TABLE {self.table} VALIDATE CONSTRAINT {self.check}"))

    def create_index(self, name):
        if name == self.unique_index:
            definition = f"UNIQUE INDEX CONCURRENTLY {name} ON {self.table} ({self.checksum})"
        elif name == self.like_index:
            definition = f"INDEX CONCURRENTLY {name} ON {self.table} ({self.checksum} varchar_pattern_ops)"
        else:
            # Old code only looks tokens up by equality, and a hash index takes a value of any length: a
            # btree refuses rows over a third of a page, and after 0012 a token may be a JWT of 8 kB.
            definition = f"INDEX CONCURRENTLY {name} ON {self.table} USING hash ({self.token})"
        self._execute(f"CREATE {definition}")

    def drop_index(self, name):
        self._execute(f"DROP INDEX CONCURRENTLY IF EXISTS {self.connection.ops.quote_name(name)}")

    def drop_index_in_migration(self, name):
        self._execute(f"DROP INDEX IF EXISTS {self.connection.ops.quote_name(name)}")

    def remove_in_migration(self):
        super().remove_in_migration()
        self._execute(f"ALTER TABLE {self.table} DROP CONSTRAINT IF EXISTS {self.check}")

    def drop_extras(self, say):
        super().drop_extras(say)
        if self.check_state() is not None:
            say(f"dropping check {self.check}")
            self._ddl(lambda: self._locked_ddl(f"ALTER TABLE {self.table} DROP CONSTRAINT {self.check}"))

    def before_plain_migration(self):
        """Warn about a large unprepared table before 0012 takes any lock: it stays locked until 0012 commits.

        Statistics can be missing (a table never analysed says -1) or stale, so the rows are counted too,
        up to the threshold: a bounded read under the weakest lock, enough to decide.
        """
        if self.column_state() is not None and self.filled_proven():
            return
        counted = self._scalar(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {self.table} LIMIT %s) AS page", [LARGE_TABLE_ROWS]
        )
        if counted < LARGE_TABLE_ROWS:
            return
        estimate = self._scalar(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [self.table]
        )
        rows = f"about {estimate:,}" if estimate > counted else f"at least {counted:,}"
        logger.warning(
            "%s holds %s rows: this migration locks it (no token can be read or issued) until it commits, "
            "about %.0f s or more at %s rows/s. To upgrade while the site serves, interrupt now and use "
            "'manage.py tokenchecksum prepare' first (%s).",
            self.db_table,
            rows,
            max(estimate, counted) / PLAIN_MIGRATE_ROWS_PER_SECOND,
            f"{PLAIN_MIGRATE_ROWS_PER_SECOND:,}",
            ONLINE_DOCS,
        )

    def before_not_null(self, schema_editor):
        """Adopt what ``prepare`` built: ``SET NOT NULL`` then needs no scan, the unique index no build.

        An index left invalid by an interrupted ``prepare`` is dropped, so that Django builds it anew, and
        so is a LIKE index without its unique one, which Django creates together.
        """
        for name, _ in self.indexes():
            if self.index_state(name) == "invalid":
                self._execute(f"DROP INDEX {self.connection.ops.quote_name(name)}")
        if self.index_state(self.unique_index) is None and self.index_state(self.like_index) is not None:
            self._execute(f"DROP INDEX {self.connection.ops.quote_name(self.like_index)}")  # Django adds both
        if self.index_state(self.unique_index) == "valid":
            if self.index_state(self.like_index) is None:
                # Django only adds the LIKE index together with the unique one, which is there already.
                self._execute(
                    f"CREATE INDEX {self.like_index} ON {self.table} ({self.checksum} varchar_pattern_ops)"
                )
            self._execute(f"ALTER TABLE {self.table} ALTER COLUMN {self.checksum} SET NOT NULL")
            self._execute(
                f"ALTER TABLE {self.table} ADD CONSTRAINT {self.unique_index} "
                f"UNIQUE USING INDEX {self.unique_index}"
            )
            return True
        return False
