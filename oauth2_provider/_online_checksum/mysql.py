r"""MariaDB/MySQL's SQL for the online path: two triggers, online ``ALTER``\ s, per-statement lock waits."""

import contextlib
import functools
import math
import re

from django.db import DatabaseError

from .. import backfill
from .._checksum import CHECKSUM_LENGTH
from . import base
from .base import (
    MIGRATION,
    MIGRATION_LOCK_ATTEMPTS,
    BaseOnline,
    Refused,
    _when,
    logger,
)


#: The statements that wait for a table's metadata lock on MySQL/MariaDB (and are retried after a timeout).
TABLE_DDL = re.compile(r"\s*(ALTER|CREATE|DROP|RENAME)\b", re.IGNORECASE)

#: How many times making the checksum NOT NULL is tried, each time after filling the rows old code inserted
#: meanwhile (possible only where no trigger could be created).
NOT_NULL_ATTEMPTS = 5
# "Data truncated" (1265) and "Invalid use of NULL value" (1138): a row without checksum was left.
NULL_LEFT_ERRORS = (1265, 1138)


def left_a_null(error):
    """Whether making the checksum NOT NULL failed on a row without one."""
    return bool(error.args) and error.args[0] in NULL_LEFT_ERRORS


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

    # The method of prepare ------------------------------------------------------------------------------

    def is_mariadb(self):
        return bool(getattr(self.connection, "mysql_is_mariadb", False))

    def default_method(self):
        # MySQL has no SET STATEMENT ... FOR, on which every DDL statement of the table copy relies to wait
        # briefly for its lock without leaving a session setting behind: in place there, untested.
        return "copy" if self.is_mariadb() else "in-place"

    def shadow_copy(self):
        from .copier import ShadowCopy  # the copier builds on this class

        return ShadowCopy(self.connection, self.model)

    def prepare_by_copy(self, say):
        """0012's table built beside this one and swapped in: after it, ``migrate`` only records 0012.

        Each step looks at what the database holds first (the copy is the state), so a run killed anywhere
        is continued by running ``prepare`` again. Every refusal comes before the first change: today's
        (0011, trigger privileges, replicas that cannot tell their lag) here, the copier's in ``create``.
        """
        copy = self.shadow_copy()
        self.refuse_to_prepare()
        if not copy.is_swapped():
            copy.create(say)
            copy.copy(say)
        copy.swap(say)  # once swapped, it only gives the fill trigger its name if a kill came first
        copy.drop_old(say)
        say(
            "prepared: the table has 0012's definition; run 'manage.py migrate' (it only records 0012), roll "
            "out the new code, then 'manage.py tokenchecksum finish'"
        )

    def prepare_in_place(self, say):
        left = self.copy_left()
        if left:
            raise Refused(
                f"a table copy of prepare is under way ({', '.join(left)}): run 'manage.py tokenchecksum "
                "prepare --method copy' again, which completes it. Nothing was changed."
            )
        super().prepare_in_place(say)

    def copy_left(self):
        """The tables of a table copy that are still there (``dotlts_tc_new``, ``dotlts_tc_old``)."""
        from .copier import OLD, SHADOW

        copy = self.shadow_copy()
        return [table for table in (SHADOW, OLD) if copy.exists(table)]

    def extra_helpers_left(self):
        return self.copy_left()

    def extra_status(self):
        if self.copy_left() or (self.is_mariadb() and self.migration_state() == "0011"):
            return self.shadow_copy().status()
        return []

    def next_step(self, migration):
        if migration == "0011" and self.copy_left():
            return "'manage.py tokenchecksum prepare' again: it continues the table copy where it stands"
        step = super().next_step(migration)
        if migration == "0011" and self.is_prepared() and not self.token_is_text():
            return (
                "'manage.py migrate' (prepared in place: writes wait while it copies the table to make token "
                "longtext; on MariaDB 'manage.py tokenchecksum prepare --method copy' avoids that)"
            )
        return step

    def token_is_text(self):
        sql = (
            "SELECT data_type FROM information_schema.columns WHERE table_schema = DATABASE() "
            "AND table_name = %s AND column_name = %s"
        )
        return self._scalar(sql, [self.db_table, self.token_column]) == "longtext"

    def drop_extras(self, say):
        super().drop_extras(say)
        if self.copy_left():
            self.shadow_copy().remove(say)

    # Triggers ---------------------------------------------------------------------------------------------

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
        for attempt in range(1, NOT_NULL_ATTEMPTS + 1):
            try:
                return self._ddl(lambda: self._execute(statement))
            except DatabaseError as error:
                if not left_a_null(error) or attempt == NOT_NULL_ATTEMPTS:
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
        with self.lock_wait_limited(base.DDL_LOCK_TIMEOUT_SECONDS):
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
        with self.lock_wait_limited(base.DDL_LOCK_TIMEOUT_SECONDS):
            for trigger in self._triggers(name):
                self._execute(f"DROP TRIGGER IF EXISTS {trigger}")

    def create_index(self, name):
        if name == self.unique_index:
            definition = f"UNIQUE INDEX {name} ({self.checksum})"
        else:
            definition = f"INDEX {name} ({self.token}({self.TOKEN_PREFIX_LENGTH}))"
        self._execute(f"ALTER TABLE {self.table} ADD {definition}, ALGORITHM=INPLACE, LOCK=NONE")

    def drop_index(self, name):
        with self.lock_wait_limited(base.DDL_LOCK_TIMEOUT_SECONDS):
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
