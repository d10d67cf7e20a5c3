"""The steps of the online path in the order ``BaseOnline`` owns, the names and limits they share."""

import contextlib
import importlib
import logging
import time

from django.core.management.base import CommandError
from django.db import DatabaseError
from django.db.migrations.executor import MigrationExecutor

from .. import backfill
from .._batching import batching_setting
from .._replica_lag import replica_throttle


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

ONLINE_DOCS = "docs/upgrading.rst, section 'Rolling deploys without downtime'"

#: The ways ``prepare`` can bring the table to 0012's shape: "in-place" adds to the table itself, "copy"
#: (MariaDB only) builds the final table beside it and swaps it in (``copier``).
METHODS = ("copy", "in-place")


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

    def default_method(self):
        """The method of ``prepare`` when none is named."""
        return "in-place"

    def prepare(self, say, method=None):
        method = method or self.default_method()
        if method not in METHODS:
            raise Refused(f"prepare's method is one of {', '.join(METHODS)}, not {method!r}.")
        if method == "copy":
            return self.prepare_by_copy(say)
        self.prepare_in_place(say)

    def prepare_by_copy(self, say):
        raise Refused(
            f"the table copy ('--method copy') is for MariaDB, where 0012's change of token to a text type "
            f"copies the table; on {self.connection.vendor} use '--method in-place' (the default)."
        )

    def refuse_to_prepare(self):
        """What refuses ``prepare`` before its first change, whatever its method; the replica throttle."""
        if self.migration_state() != "0011":
            raise Refused(
                f"prepare runs with the database at {APP} {BEFORE}, before 0012 is applied; this database "
                f"is at {self._migration_words()}. Run 'manage.py migrate {APP} 0011' first, or see "
                "'tokenchecksum status'."
            )
        self.refuse_without_trigger_privileges("prepare creates")
        return replica_throttle(self.connection)  # replicas that cannot tell their lag: refused here

    def prepare_in_place(self, say):
        throttle = self.refuse_to_prepare()
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

    def fills_new_rows(self):
        """Whether a trigger of ours gives every row written from now on its checksum."""
        return any(self.trigger_complete(name) for name in (self.trigger, self.migration_trigger))

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
