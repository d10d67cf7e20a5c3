"""Migration 0012 while the site serves: ``manage.py tokenchecksum prepare|status|finish``, 0012's hooks.

The online path is expand, migrate, contract (docs/upgrading.rst, "Rolling deploys without downtime"):

* ``prepare`` runs with the database at 0011 while pre-0012 code serves. It adds the nullable column, a
  trigger that gives every row old code writes its checksum, fills the existing rows in committed pages,
  and builds, without blocking writes, the indexes 0012 would build under a lock: the unique index on
  ``token_checksum`` under the name Django gives it, a plain index on ``token`` that old code's lookups
  keep using once 0012 drops the unique one, and on PostgreSQL a validated ``CHECK (... IS NOT NULL)``
  so that ``SET NOT NULL`` needs no scan. Each DDL statement waits at most ``DDL_LOCK_TIMEOUT_SECONDS``
  for its lock and is retried, so a long transaction elsewhere delays the step instead of queueing the
  site behind it. Every step looks at the database first, so a killed run is resumed by running it again.
* ``migrate`` then finds each operation of 0012 done or reduced to catalog work (see ``FilledAlterField``
  and ``_resumable``).
* ``finish``, once no pre-0012 code runs any more, drops what ``prepare`` added beyond upstream's schema.

The plain path (``migrate`` alone) uses the same trigger for the duration of 0012 on MySQL/MariaDB, where
DDL is not transactional and old code keeps inserting rows between the backfill and ``NOT NULL``. With
``OAUTH2_PROVIDER["TOKEN_CHECKSUM_MIGRATION_LOCK_TIMEOUT"]`` set, 0012 waits at most that long for each
lock on the table, retries a few times and then stops with ``LockNotGranted`` (see ``applying_0012``).

Every object created here is named with ``PREFIX``, so ``status`` and ``finish`` find them. One class per
database vendor knows its SQL; ``BaseOnline`` owns the order of the steps.
"""

import contextlib
import functools
import importlib
import logging
import math
import re
import time

from django.core.management.base import CommandError
from django.db import DatabaseError, connections, router, transaction
from django.db.migrations.executor import MigrationExecutor

from . import backfill
from ._batching import batching_setting
from ._checksum import CHECKSUM_LENGTH
from ._replica_lag import replica_throttle
from ._resumable import ResumableAlterField
from .settings import oauth2_settings


logger = logging.getLogger("oauth2_provider.migrations")

APP = "oauth2_provider"
BEFORE, MIGRATION = "0011_refreshtoken_token_family", "0012_add_token_checksum"
OWN_MODEL = "oauth2_provider.AccessToken"

#: Every trigger, function, index and constraint of the online path starts with this.
PREFIX = "dotlts_tc_"
#: Seconds a DDL statement of ``prepare``/``finish`` waits for its table lock before it gives up and retries.
DDL_LOCK_TIMEOUT_SECONDS = 2
#: How many times such a statement is tried before ``prepare``/``finish`` stops with an error.
DDL_ATTEMPTS = 30
#: How many times 0012 asks for a lock under ``TOKEN_CHECKSUM_MIGRATION_LOCK_TIMEOUT`` before it gives up.
MIGRATION_LOCK_ATTEMPTS = 3

#: The statements that wait for a table's metadata lock on MySQL/MariaDB (and are retried after a timeout).
TABLE_DDL = re.compile(r"\s*(ALTER|CREATE|DROP|RENAME)\b", re.IGNORECASE)

# PostgreSQL with this many rows (catalog estimate) makes plain ``migrate`` log a warning before the
# backfill, and the rate at which the locked migration goes through them. The rate is the whole of 0012
# per row, measured on 2 cores (1,000,000 tokens in 12.3 s, docs/upgrading.rst "Measured").
LARGE_TABLE_ROWS = 100_000
PLAIN_MIGRATE_ROWS_PER_SECOND = 80_000
ONLINE_DOCS = "docs/upgrading.rst, section 'Rolling deploys without downtime'"


class Refused(Exception):
    """The step cannot run on this database in its current state; the message says what to do."""


class LockNotGranted(Refused, CommandError):
    """0012 gave up waiting for its lock on the table. A ``CommandError``, so ``manage.py migrate`` prints
    the message without a traceback."""


def get_batch_interval():
    """``OAUTH2_PROVIDER["TOKEN_CHECKSUM_BATCH_INTERVAL"]``: seconds between two pages of ``prepare``."""
    return batching_setting("TOKEN_CHECKSUM_BATCH_INTERVAL")


def get_migration_lock_timeout():
    """``OAUTH2_PROVIDER["TOKEN_CHECKSUM_MIGRATION_LOCK_TIMEOUT"]``: seconds 0012 waits for a lock (None:
    as long as the database lets it)."""
    return batching_setting("TOKEN_CHECKSUM_MIGRATION_LOCK_TIMEOUT")


# Upstream has no command that removes them: ``finish`` must run while this package is installed.
BEFORE_UPSTREAM = (
    "always before going back to upstream django-oauth-toolkit, which has no command that removes them"
)


def _when(moment):
    return "at an unknown time" if moment is None else moment.isoformat(sep=" ", timespec="seconds")


class BaseOnline:
    """The steps of the online path on one database; subclasses supply the vendor's SQL."""

    #: The trigger of ``prepare`` stays until ``finish``; the one of a plain ``migrate`` only for 0012.
    trigger = f"{PREFIX}fill"
    migration_trigger = f"{PREFIX}migrating"
    token_index = f"{PREFIX}token"

    def __init__(self, connection, model):
        self.connection = connection
        self.model = model
        meta = model._meta
        self.db_table = meta.db_table
        self.token_column = meta.get_field("token").column
        self.checksum_column = meta.get_field("token_checksum").column
        quote = connection.ops.quote_name
        self.table, self.token, self.checksum = (
            quote(self.db_table),
            quote(self.token_column),
            quote(self.checksum_column),
        )
        # Under the names Django's schema editor gives them, so that 0012 finds them and the schema after
        # ``finish`` is upstream's.
        self.unique_index = self.django_index_name("_uniq")

    def django_index_name(self, suffix):
        editor = self.connection.schema_editor()
        return editor._create_index_name(self.db_table, [self.checksum_column], suffix=suffix)

    # What the database holds --------------------------------------------------------------------

    def _scalar(self, sql, params=()):
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return row[0] if row else None

    def _execute(self, sql, params=()):
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)

    def column_state(self):
        """None when the checksum column does not exist, else "nullable" or "NOT NULL"."""
        with self.connection.cursor() as cursor:
            description = self.connection.introspection.get_table_description(cursor, self.db_table)
        column = next((c for c in description if c.name == self.checksum_column), None)
        if column is None:
            return None
        return "nullable" if column.null_ok else "NOT NULL"

    def missing_checksums(self):
        return self._scalar(f"SELECT COUNT(*) FROM {self.table} WHERE {self.checksum} IS NULL")

    def migration_state(self):
        """ "0012" when applied, "0011" when 0011 is the last applied, else None."""
        applied = MigrationExecutor(self.connection).loader.applied_migrations
        if (APP, MIGRATION) in applied:
            return "0012"
        return "0011" if (APP, BEFORE) in applied else None

    def has_trigger(self, name):
        raise NotImplementedError

    def trigger_complete(self, name):
        return self.has_trigger(name)

    def index_state(self, name):
        """None (absent), "invalid" (an interrupted build left it unusable) or "valid"."""
        raise NotImplementedError

    def indexes(self):
        """``(name, what it is for)`` of every index ``prepare`` builds."""
        return [
            (self.unique_index, "unique on token_checksum"),
            (self.token_index, "old code's lookups by token"),
        ]

    # The steps ------------------------------------------------------------------------------------

    def prepare(self, say):
        if self.migration_state() != "0011":
            raise Refused(
                f"prepare runs with the database at {APP} {BEFORE}, before 0012 is applied; this database "
                f"is at {self._migration_words()}. Run 'manage.py migrate {APP} 0011' first, or see "
                "'tokenchecksum status'."
            )
        self.refuse_without_trigger_privileges("prepare creates")
        throttle = replica_throttle(self.connection)  # replicas that cannot tell their lag: refused here
        if self.column_state() is None:
            say("adding the nullable token_checksum column")
            self._ddl(self._add_column)
        if not self.trigger_complete(self.trigger):
            say(f"creating trigger {self.trigger}: the database fills token_checksum for old code")
            self._ddl(lambda: self.create_trigger(self.trigger))
        self.fill(say)
        self.prove_filled(say)
        for name, purpose in self.indexes():
            # A replica applies an index build as one statement after the primary: one at a time.
            if throttle is not None:
                throttle.wait()
            self._build_index(name, purpose, say)
        say("prepared: run 'manage.py migrate', roll out the new code, then 'manage.py tokenchecksum finish'")

    def finish(self, say):
        if self.migration_state() != "0012":
            raise Refused(
                f"finish removes what prepare added once {APP} 0012 is applied and no pre-0012 code runs; "
                f"this database is at {self._migration_words()}. Run 'manage.py migrate' first."
            )
        if self.has_trigger(self.trigger) or self.has_trigger(self.migration_trigger):
            self.refuse_without_trigger_privileges("finish drops")
        for name in (self.trigger, self.migration_trigger):
            if self.has_trigger(name):
                say(f"dropping trigger {name}")
                self._ddl(lambda name=name: self.drop_trigger(name))
        self.drop_extras(say)
        say("finished: the schema is exactly upstream django-oauth-toolkit 3.0.1's after 0012")

    def status(self):
        """Lines telling where the table stands, ending with the next step."""
        migration = self.migration_state()
        column = self.column_state()
        lines = [
            f"database {self.connection.alias!r} ({self.connection.vendor}), table {self.db_table}",
            f"migration {APP} 0012: {'applied' if migration == '0012' else 'not applied'}",
            f"token_checksum column: {column or 'absent'}",
        ]
        for name in (self.trigger, self.migration_trigger):
            lines.append(f"trigger {name}: {'present' if self.has_trigger(name) else 'absent'}")
        if column is not None:
            lines.append(f"rows without a checksum: {self.missing_checksums()}")
        lines.extend(self.extra_status())
        for name, purpose in self.indexes():
            lines.append(f"index {name} ({purpose}): {self.index_state(name) or 'absent'}")
        lines.append(f"next step: {self.next_step(migration)}")
        return lines

    def next_step(self, migration):
        if migration is None:
            return f"'manage.py migrate {APP} 0011'"
        prepared = self.has_trigger(self.trigger)
        if migration == "0011":
            if prepared and self.is_prepared():
                return "'manage.py migrate' (prepared: brief locks only)"
            return "'manage.py tokenchecksum prepare' (or a plain 'manage.py migrate' if the site can stop)"
        if self.helpers_left():
            return f"'manage.py tokenchecksum finish' once no pre-0012 code runs any more; {BEFORE_UPSTREAM}"
        return "none: the schema is upstream's"

    def is_prepared(self):
        """Whether every step of ``prepare`` is done."""
        if not self.has_trigger(self.trigger) or self.column_state() is None:
            return False
        return all(self.index_state(name) == "valid" for name, _ in self.indexes()) and self.filled_proven()

    def filled_proven(self):
        """Whether the database guarantees that no row lacks a checksum, without counting."""
        return self.column_state() == "NOT NULL"

    def has_extras(self):
        return self.index_state(self.token_index) is not None

    def helpers_left(self):
        """The names of what ``prepare`` (or an interrupted plain ``migrate``) added that is still there."""
        triggers = [name for name in (self.trigger, self.migration_trigger) if self.has_trigger(name)]
        index = [self.token_index] if self.index_state(self.token_index) is not None else []
        return triggers + index + self.extra_helpers_left()

    def extra_helpers_left(self):
        return []

    def extra_status(self):
        return []

    # Step details shared by the vendors -------------------------------------------------------------

    def _migration_words(self):
        return {"0012": "0012 (applied)", "0011": "0011"}.get(
            self.migration_state(), "a migration before 0011"
        )

    def _add_column(self):
        """The column exactly as 0012's first operation adds it."""
        migration = importlib.import_module(f"{APP}.migrations.{MIGRATION}").Migration
        field = migration.operations[0].field.clone()
        field.set_attributes_from_name("token_checksum")
        with (
            self.connection.schema_editor(atomic=self.connection.features.can_rollback_ddl) as editor,
            self.lock_wait_limited(DDL_LOCK_TIMEOUT_SECONDS),
        ):
            editor.add_field(self.model, field)

    def fill(self, say):
        batch_size = backfill.get_batch_size()
        pause = get_batch_interval()
        say(f"filling token_checksum in committed pages of {batch_size} rows (pause {pause}s)")
        backfill.backfill_token_checksums(self.model, self.connection.alias, batch_size, pause)

    def prove_filled(self, say):
        """Make the database guarantee there is no NULL left (vendor-specific; may be nothing)."""

    def _build_index(self, name, purpose, say):
        if self.index_state(name) == "valid":
            return
        say(f"building index {name} ({purpose}) without blocking writes")
        self._ddl(lambda: self._build_fresh_index(name, say))

    def _build_fresh_index(self, name, say):
        # Also on a retry: a build that timed out waiting for its lock leaves an invalid index too.
        if self.index_state(name) == "invalid":
            say(f"dropping index {name}, left invalid by an interrupted build")
            self.drop_index(name)
        self.create_index(name)

    def _ddl(self, statement, seconds=None, attempts=None, explained=None):
        """Run ``statement``, which waits ``seconds`` for its lock, again after each lock timeout.

        ``statement`` must change nothing when its lock is not granted. By default it is one of
        ``prepare``/``finish`` (``DDL_LOCK_TIMEOUT_SECONDS``, ``DDL_ATTEMPTS``); the last error goes through
        ``explained`` (by default :meth:`explained`).
        """
        seconds = seconds or DDL_LOCK_TIMEOUT_SECONDS
        attempts = attempts or DDL_ATTEMPTS
        explained = explained or self.explained
        for attempt in range(1, attempts + 1):
            try:
                return statement()
            except DatabaseError as error:
                if not self.is_lock_timeout(error) or attempt == attempts:
                    explanation = explained(error)
                    if explanation is error:
                        raise
                    raise explanation from error
                logger.info("lock not granted within %ss (attempt %s): retrying", seconds, attempt)
                time.sleep(min(attempt, 5))

    def explained(self, error):
        """``error`` itself, or a ``Refused`` saying what to do about it."""
        return error

    def lock_not_granted(self, seconds, error):
        """What 0012 raises when ``error`` is its last lock timeout (else ``error`` itself)."""
        if not self.is_lock_timeout(error):
            return error
        holders = self.lock_holders()
        found = f"{self.HOLDERS}: {'; '.join(holders)}" if holders else self.NO_HOLDER
        return LockNotGranted(
            f"{APP} {MIGRATION} gave up: no lock on {self.db_table} within {seconds}s, "
            f"{MIGRATION_LOCK_ATTEMPTS} times (OAUTH2_PROVIDER['TOKEN_CHECKSUM_MIGRATION_LOCK_TIMEOUT']). "
            f"{self.UNAPPLIED} {found}. Let that transaction finish or end it, then run 'manage.py migrate' "
            "again, at a quieter time or with a longer timeout; on a busy table 'manage.py tokenchecksum "
            f"prepare' first leaves only brief locks ({ONLINE_DOCS})."
        )

    #: What the database kept of an 0012 that gave up (vendor-specific).
    UNAPPLIED = ""
    #: How ``lock_not_granted`` introduces what ``lock_holders`` found, and what it says when it found nobody.
    HOLDERS = "Holding a lock on it"
    NO_HOLDER = "No other session holds a lock on it any more"

    def lock_holders(self):
        """Descriptions of the sessions that hold a lock on the table, or may (vendor-specific)."""
        raise NotImplementedError

    # Vendor SQL -----------------------------------------------------------------------------------------

    def trigger_privilege_problem(self):
        """Why the server would refuse this user to create or drop a trigger, or None (vendor-specific)."""
        return None

    def refuse_without_trigger_privileges(self, doing):
        """Refuse before the first change of a step that would fail on its triggers halfway through."""
        problem = self.trigger_privilege_problem()
        if problem:
            raise Refused(f"{doing} triggers, and {problem}. Nothing was changed.")

    def lock_wait_limited(self, seconds):
        """A context in which the DDL statements of this connection wait at most ``seconds`` for their
        table lock, and which leaves no setting behind on the connection."""
        raise NotImplementedError

    def is_lock_timeout(self, error):
        raise NotImplementedError

    def create_trigger(self, name):
        raise NotImplementedError

    def drop_trigger(self, name):
        raise NotImplementedError

    def create_index(self, name):
        raise NotImplementedError

    def drop_index(self, name):
        raise NotImplementedError

    def drop_extras(self, say):
        if self.index_state(self.token_index) is not None:
            say(f"dropping index {self.token_index}")
            self._ddl(lambda: self.drop_index(self.token_index))

    # Hooks of migration 0012 ------------------------------------------------------------------------------

    def before_plain_migration(self):
        """Before 0012's first operation, while it holds no lock on the table yet."""

    @contextlib.contextmanager
    def migration_lock_wait(self, seconds):
        """0012's operations run inside: they wait at most ``seconds`` for a lock on the table, retry a few
        times and then raise ``LockNotGranted`` (vendor-specific; nothing on SQLite)."""
        yield

    def begin_plain_migration(self):
        """Before 0012's backfill on a table ``prepare`` did not finish."""

    def before_not_null(self, schema_editor):
        """Before 0012's last operation makes the checksum NOT NULL and unique; True if that is done."""
        return False

    def after_not_null(self):
        """After 0012's last operation."""
        if self.has_trigger(self.migration_trigger):
            self.drop_trigger(self.migration_trigger)

    def remove_in_migration(self):
        """Unapplying 0012: drop what ``prepare`` added, before the column goes (triggers would break)."""
        for name in (self.trigger, self.migration_trigger):
            if self.has_trigger(name):
                self.drop_trigger(name)
        if self.index_state(self.token_index) is not None:
            self.drop_index_in_migration(self.token_index)

    def drop_index_in_migration(self, name):
        self.drop_index(name)


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
            self.lock_wait_limited(seconds or DDL_LOCK_TIMEOUT_SECONDS),
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


class MySQLOnline(BaseOnline):
    #: A prefix shorter than the 255 characters of the 0011 column: an index on the whole varchar would be
    #: stored as a full index and then forbid the change to ``longtext`` 0012 makes.
    TOKEN_PREFIX_LENGTH = 191

    PRIVILEGE_ERRORS = {
        1142: "the database user lacks the TRIGGER privilege on this table: GRANT TRIGGER ON {db}.* TO ...",
        1419: (
            "binary logging is on: creating a trigger needs the SUPER privilege, or the server setting "
            "log_bin_trust_function_creators = 1"
        ),
    }

    def trigger_privilege_problem(self):
        # With binary logging on, MariaDB and MySQL refuse CREATE and DROP TRIGGER to a user without SUPER
        # unless log_bin_trust_function_creators is set (error 1419).
        log_bin = self._scalar("SELECT @@log_bin")
        trusted = self._scalar("SELECT @@log_bin_trust_function_creators")
        if not log_bin or trusted or self._has_super():
            return None
        return (
            "binary logging is on, log_bin_trust_function_creators is 0 and the database user has no SUPER "
            "privilege, so the server refuses them: set log_bin_trust_function_creators = 1 (SET GLOBAL, and "
            "in the server's configuration) or run this step as a user with SUPER"
        )

    def _has_super(self):
        with self.connection.cursor() as cursor:
            cursor.execute("SHOW GRANTS")
            grants = [row[0] for row in cursor.fetchall()]
        return any(
            " ON *.* " in grant and ("ALL PRIVILEGES" in grant or re.search(r"\bSUPER\b", grant))
            for grant in grants
        )

    def _triggers(self, name):
        return (f"{name}_insert", f"{name}_update")

    def _trigger_parts(self, name):
        sql = (
            "SELECT COUNT(*) FROM information_schema.triggers WHERE event_object_schema = DATABASE() "
            "AND event_object_table = %s AND trigger_name IN (%s, %s)"
        )
        return self._scalar(sql, [self.db_table, *self._triggers(name)])

    def has_trigger(self, name):
        return self._trigger_parts(name) > 0

    def trigger_complete(self, name):
        return self._trigger_parts(name) == len(self._triggers(name))

    def prove_filled(self, say):
        """NOT NULL already, online: old code's inserts get their checksum from the trigger before the check.

        Before the unique index too, because InnoDB lists unique keys on NOT NULL columns first: built the
        other way round, ``SHOW CREATE TABLE`` would differ from upstream's.
        """
        if self.column_state() == "NOT NULL":
            return
        say("making token_checksum NOT NULL (online: reads and writes go on)")
        statement = (
            f"ALTER TABLE {self.table} MODIFY {self.checksum} varchar({CHECKSUM_LENGTH}) NOT NULL, "
            "ALGORITHM=INPLACE, LOCK=NONE"
        )
        for attempt in range(1, FilledAlterField.ATTEMPTS + 1):
            try:
                return self._ddl(lambda: self._execute(statement))
            except DatabaseError as error:
                if not FilledAlterField.left_a_null(error) or attempt == FilledAlterField.ATTEMPTS:
                    raise
            self.fill(say)

    def index_state(self, name):
        sql = (
            "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() "
            "AND table_name = %s AND index_name = %s"
        )
        # InnoDB builds an index in one statement that either completes or leaves nothing behind.
        return "valid" if self._scalar(sql, [self.db_table, name]) else None

    @contextlib.contextmanager
    def lock_wait_limited(self, seconds):
        # lock_wait_timeout counts whole seconds.
        whole = max(1, math.ceil(seconds))
        if self.connection.mysql_is_mariadb:
            # Per statement: no session setting, nothing a multiplexing proxy could pass on to another client.
            with self.connection.execute_wrapper(functools.partial(_waiting_at_most, whole)):
                yield
            return
        # MySQL has no per-statement form for DDL: a session setting, put back afterwards. Behind a proxy
        # that multiplexes connections it could reach another client; run migrations over a direct one.
        previous = self._scalar("SELECT @@SESSION.lock_wait_timeout")
        self._execute("SET SESSION lock_wait_timeout = %s", [whole])
        try:
            yield
        finally:
            self._execute("SET SESSION lock_wait_timeout = %s", [previous])

    def is_lock_timeout(self, error):
        return bool(error.args) and error.args[0] == 1205

    UNAPPLIED = (
        f"{MIGRATION} is not applied: what it did before this statement stays (DDL commits at once here), "
        "and the next 'manage.py migrate' resumes from there."
    )
    HOLDERS = "Open transactions on the server (the one that read the table holds its metadata lock)"
    NO_HOLDER = "No open transaction is left on the server"

    @contextlib.contextmanager
    def migration_lock_wait(self, seconds):
        """Each ALTER, CREATE or DROP of 0012 waits for its own metadata lock: each waits at most
        ``seconds``, and is tried again (it changed nothing) before 0012 gives up."""
        explained = functools.partial(self.lock_not_granted, seconds)

        def retried(execute, sql, params, many, context):
            if not TABLE_DDL.match(sql):
                return execute(sql, params, many, context)
            return self._ddl(
                lambda: execute(sql, params, many, context), seconds, MIGRATION_LOCK_ATTEMPTS, explained
            )

        with self.connection.execute_wrapper(retried), self.lock_wait_limited(seconds):
            yield

    def lock_holders(self):
        # Which session holds a metadata lock is only known to a plugin (MariaDB) or to performance_schema
        # (MySQL): name the open transactions instead, oldest first; one of them has read the table.
        sql = (
            "SELECT t.trx_mysql_thread_id, t.trx_started, p.COMMAND, p.INFO "
            "FROM information_schema.INNODB_TRX t "
            "LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id "
            "WHERE t.trx_mysql_thread_id <> CONNECTION_ID() ORDER BY t.trx_started LIMIT 5"
        )
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
            rows = cursor.fetchall()
        return [
            f"thread {thread}, open since {_when(started)}, "
            + ("idle" if command == "Sleep" else f"running {(info or '')[:100]!r}")
            + f"; end it with KILL {thread}"
            for thread, started, command, info in rows
        ]

    def explained(self, error):
        code = error.args[0] if error.args else None
        if code in self.PRIVILEGE_ERRORS:
            problem = self.PRIVILEGE_ERRORS[code].format(db=self.connection.settings_dict["NAME"])
            return Refused(f"cannot create the trigger that fills token_checksum: {problem} ({error}).")
        return error

    def create_trigger(self, name):
        insert, update = self._triggers(name)
        hashed = backfill.MySQLBackfill.hash_sql.format(token=f"NEW.{self.token}")
        # Compared as bytes: under a case-insensitive collation "A" and "a" are equal, their hashes are not.
        new_bytes, old_bytes = (f"CAST({row}.{self.token} AS BINARY)" for row in ("NEW", "OLD"))
        changed = f"NEW.{self.checksum} IS NULL OR NOT ({new_bytes} <=> {old_bytes})"
        with self.lock_wait_limited(DDL_LOCK_TIMEOUT_SECONDS):
            self.drop_trigger(name)  # a run killed between the two CREATE statements left one of them
            self._execute(
                f"CREATE TRIGGER {insert} BEFORE INSERT ON {self.table} "
                f"FOR EACH ROW SET NEW.{self.checksum} = {hashed}"
            )
            self._execute(
                f"CREATE TRIGGER {update} BEFORE UPDATE ON {self.table} FOR EACH ROW "
                f"SET NEW.{self.checksum} = IF({changed}, {hashed}, NEW.{self.checksum})"
            )

    def drop_trigger(self, name):
        with self.lock_wait_limited(DDL_LOCK_TIMEOUT_SECONDS):
            for trigger in self._triggers(name):
                self._execute(f"DROP TRIGGER IF EXISTS {trigger}")

    def create_index(self, name):
        if name == self.unique_index:
            definition = f"UNIQUE INDEX {name} ({self.checksum})"
        else:
            definition = f"INDEX {name} ({self.token}({self.TOKEN_PREFIX_LENGTH}))"
        self._execute(f"ALTER TABLE {self.table} ADD {definition}, ALGORITHM=INPLACE, LOCK=NONE")

    def drop_index(self, name):
        with self.lock_wait_limited(DDL_LOCK_TIMEOUT_SECONDS):
            self._execute(f"ALTER TABLE {self.table} DROP INDEX {name}, ALGORITHM=INPLACE, LOCK=NONE")

    def begin_plain_migration(self):
        """Old code keeps inserting while 0012 runs: the database fills those rows until NOT NULL."""
        if self.has_trigger(self.trigger) or self.has_trigger(self.migration_trigger):
            return
        try:
            self.create_trigger(self.migration_trigger)
        except DatabaseError as error:
            if not isinstance(self.explained(error), Refused):
                raise
            logger.warning(
                "No trigger for the duration of 0012 (%s): rows inserted meanwhile are filled before "
                "NOT NULL, which is retried if one slips through.",
                error,
            )


def _waiting_at_most(seconds, execute, sql, params, many, context):
    """An execute wrapper for MariaDB: a statement of ``TABLE_DDL`` waits at most ``seconds`` for its
    metadata lock, a setting of that statement alone. Once rewritten it no longer matches, so when wrappers
    nest (0012's limit around that of a step) the outermost one, which runs first, holds."""
    if TABLE_DDL.match(sql):
        sql = f"SET STATEMENT lock_wait_timeout={seconds} FOR {sql}"
    return execute(sql, params, many, context)


class SQLiteOnline(BaseOnline):
    """One writer at a time: a plain ``migrate`` is the way, and it blocks nobody for long."""

    EXPLANATION = (
        "SQLite has one writer at a time and a migration holds the write lock throughout, so there is no "
        "online path to prepare: stop writing, run 'manage.py migrate', start the new code."
    )

    def prepare(self, say):
        say(self.EXPLANATION)

    def finish(self, say):
        say("nothing to finish on SQLite: 'manage.py migrate' leaves upstream's schema.")

    def status(self):
        return [*super().status()[:3], self.EXPLANATION]

    def has_trigger(self, name):
        return False

    def index_state(self, name):
        return None


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
    insert between the backfill and this statement, the rows it wrote are filled first, and again if
    the statement still meets one (possible only where no trigger could be created).
    """

    ATTEMPTS = 5
    # MySQL/MariaDB: "Data truncated" (1265) and "Invalid use of NULL value" (1138) for a NULL left.
    NULL_LEFT_ERRORS = (1265, 1138)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        online = _migration_online(schema_editor, model)
        if online is None or not self.allow_migrate_model(schema_editor.connection.alias, model):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        if online.before_not_null(schema_editor):
            return
        for attempt in range(1, self.ATTEMPTS + 1):
            if schema_editor.connection.vendor == "mysql":
                backfill.backfill_token_checksums(model, using=schema_editor.connection.alias)
            try:
                super().database_forwards(app_label, schema_editor, from_state, to_state)
                break
            except DatabaseError as error:
                if not self.left_a_null(error) or attempt == self.ATTEMPTS:
                    raise
                logger.info("a row without checksum was inserted meanwhile: filling it, then retrying")
        online.after_not_null()

    @classmethod
    def left_a_null(cls, error):
        return bool(error.args) and error.args[0] in cls.NULL_LEFT_ERRORS

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
