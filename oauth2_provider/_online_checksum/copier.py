"""MariaDB: the access token table in 0012's shape by copying it while writes go on.

``tokenchecksum prepare`` runs these steps on MariaDB (``MySQLOnline.prepare_by_copy``), ``finish``
removes what a copy left (``remove``).

InnoDB turns ``varchar(255)`` into ``longtext`` only by copying the table under a lock that holds every write
back for the length of the copy. :class:`ShadowCopy` builds the new table beside the old one instead:

``create``
    ``dotlts_tc_new``, created ``LIKE`` the table and altered while empty to 0012's definition (``token
    longtext``, ``token_checksum`` last, NOT NULL), plus the fill trigger old code's inserts need once the
    copy is the table. Its foreign keys carry temporary names: InnoDB names them per schema, and the table's
    own hold the real ones until the swap. Then three AFTER triggers on the table repeat every insert, update
    and delete in the copy (the DELETE one first: from then on the copy holds no row the table does not).
``copy``
    Fills the copy in committed primary-key windows (``SELECT ... LOCK IN SHARE MODE``, then one multi-row
    ``INSERT``, in one transaction: see ``page_insert_sql``), paced like the backfill. A window whose rows are
    all there already costs two counts, so a run killed at any point continues where the copy stands: the copy
    is the state. Then it builds, online, the unique index on ``token_checksum`` under Django's name and the
    index on a prefix of ``token`` that old code's lookups need until ``finish``
    (``MySQLOnline.token_index``): sorted once, not kept up row by row through the copy.
``swap``
    With every row copied: the foreign keys of other tables that point at the table are moved to the copy
    (``foreign_key_checks=0``, in place: no table copy), the table's own are dropped (the copy's enforce
    the same through the triggers) and the copy's take their names, then one ``RENAME TABLE`` puts the copy
    in the table's place. Foreign keys that reference a renamed table follow it, so the moved ones now
    reference the new table, under their own names. The fill trigger then takes its usual name.
``drop_old``
    Drops ``dotlts_tc_old``, and the copy triggers with it.

Every DDL statement waits at most ``DDL_LOCK_TIMEOUT_SECONDS`` for its metadata lock and is retried like
``prepare``'s. After the swap and ``finish`` (which drops the token index) the table is exactly what a plain
``migrate`` to 0012 gives.
"""

import logging
import os
import socket
from dataclasses import dataclass, replace

from django.db import transaction
from django.db.backends.utils import names_digest

from .. import backfill
from .._batching import KeysetWalk
from .._checksum import CHECKSUM_LENGTH
from .base import DDL_LOCK_TIMEOUT_SECONDS, PREFIX, Refused, get_batch_interval, logger
from .mysql import MySQLOnline


SHADOW = f"{PREFIX}new"
OLD = f"{PREFIX}old"
#: The AFTER triggers on the table that keep the copy in step: ``<name>_delete``, ``_update``, ``_insert``.
COPY_TRIGGER = f"{PREFIX}copy"
#: The copy's fill trigger until the swap (trigger names are per schema: the table's has the usual one).
SHADOW_FILL = f"{PREFIX}newfill"
#: In the order they are created: with the DELETE trigger first, the copy never holds a row the table lacks.
COPY_EVENTS = ("DELETE", "UPDATE", "INSERT")
#: What the copier does needs these on the database (REFERENCES is not checked by MariaDB).
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX", "TRIGGER")
#: Bytes per row the copy needs beyond the table's: the checksum and its unique index entry, roughly.
CHECKSUM_BYTES_PER_ROW = 2 * (CHECKSUM_LENGTH + 16)


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: str
    column: str
    to_table: str
    to_column: str
    update_rule: str
    delete_rule: str


def _free_bytes(path):
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def _mib(size):
    return f"{size / 2**20:,.0f} MiB"


class ShadowCopy:
    """The steps of the table copy on one MariaDB database, each resumable by running it again."""

    def __init__(self, connection, model):
        self.connection = connection
        self.model = model
        self.online = MySQLOnline(connection, model)
        self.db_table = self.online.db_table
        quote = connection.ops.quote_name
        self.quote = quote
        self.table, self.shadow, self.old = quote(self.db_table), quote(SHADOW), quote(OLD)
        self.pk_column = model._meta.pk.column
        self.pk = quote(self.pk_column)
        self._copied = None

    # What the database holds --------------------------------------------------------------------------

    def _rows(self, sql, params=()):
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _table_info(self, what, table):
        """``what`` (columns of information_schema.tables) about ``table`` of this database, or None."""
        where = "table_schema = DATABASE() AND table_name = %s"
        rows = self._rows(f"SELECT {what} FROM information_schema.tables WHERE {where}", [table])
        return rows[0] if rows else None

    def exists(self, table):
        return self._table_info("1", table) is not None

    def copy_triggers(self):
        """The copy triggers on the table, by event."""
        sql = (
            "SELECT event_manipulation FROM information_schema.triggers "
            "WHERE event_object_schema = DATABASE() AND event_object_table = %s AND trigger_name LIKE %s"
        )
        return {event for (event,) in self._rows(sql, [self.db_table, f"{COPY_TRIGGER}\\_%"])}

    def is_created(self):
        return self.exists(SHADOW) and self.copy_triggers() == set(COPY_EVENTS)

    def is_swapped(self):
        """Whether the copy is the table (the old one may still be there)."""
        return (
            not self.exists(SHADOW)
            and self._column_type(self.db_table, self.online.token_column) == "longtext"
        )

    def _column_type(self, table, column):
        sql = (
            "SELECT data_type FROM information_schema.columns WHERE table_schema = DATABASE() "
            "AND table_name = %s AND column_name = %s"
        )
        return self.online._scalar(sql, [table, column])

    def _columns(self, table):
        with self.connection.cursor() as cursor:
            return [c.name for c in self.connection.introspection.get_table_description(cursor, table)]

    def foreign_keys(self, where, params):
        sql = (
            "SELECT k.constraint_name, k.table_name, k.column_name, k.referenced_table_name, "
            "k.referenced_column_name, r.update_rule, r.delete_rule "
            "FROM information_schema.key_column_usage k JOIN information_schema.referential_constraints r "
            "ON r.constraint_schema = k.table_schema AND r.table_name = k.table_name "
            "AND r.constraint_name = k.constraint_name "
            f"WHERE k.table_schema = DATABASE() AND k.referenced_table_name IS NOT NULL AND {where} "
            "ORDER BY k.table_name, k.constraint_name"
        )
        return [ForeignKey(*row) for row in self._rows(sql, params)]

    def own_foreign_keys(self, table):
        return self.foreign_keys("k.table_name = %s", [table])

    def referencing(self):
        """The foreign keys of other tables that point at the table or at the copy."""
        targets, ours = [self.db_table, SHADOW], [self.db_table, SHADOW, OLD]
        return self.foreign_keys(
            "k.referenced_table_name IN (%s, %s) AND k.table_name NOT IN (%s, %s, %s)", targets + ours
        )

    def django_name(self, fk):
        """The name Django gives ``fk`` once the copy is the table."""
        to_table = self.db_table if fk.to_table in (SHADOW, OLD) else fk.to_table
        table = self.db_table if fk.table in (SHADOW, OLD) else fk.table
        editor = self.connection.schema_editor()
        return editor._create_index_name(table, [fk.column], suffix=f"_fk_{to_table}_{fk.to_column}")

    def temporary_name(self, fk):
        return f"{PREFIX}fk_{names_digest(self.django_name(fk), length=16)}"

    def estimated_rows(self, table):
        info = self._table_info("table_rows", table)
        return (info and info[0]) or 0

    def copied_completely(self):
        """Whether the copy holds every row of the table: it never holds one the table lacks, so the counts
        tell (one statement, one read view)."""
        sql = f"SELECT (SELECT COUNT(*) FROM {self.table}), (SELECT COUNT(*) FROM {self.shadow})"
        present, copied = self._rows(sql)[0]
        return present == copied

    # The steps --------------------------------------------------------------------------------------------

    def create(self, say):
        if self.is_created():
            return
        self.refuse_to_start(say)
        if self.exists(SHADOW) and not self.copy_triggers():
            # Left by a run killed before its triggers: nothing can have been written into it yet.
            say(f"dropping {SHADOW}, left unfinished by an interrupted run")
            self._ddl(f"DROP TABLE {self.shadow}")
        if not self.exists(SHADOW):
            say(f"creating {SHADOW} with 0012's definition")
            self._ddl(f"CREATE TABLE {self.shadow} LIKE {self.table}")
            self._ddl(f"ALTER TABLE {self.shadow} {', '.join(self._shape())}")
            self._add_foreign_keys()
            self._on(SHADOW).create_trigger(SHADOW_FILL)
        present = self.copy_triggers()
        for event in COPY_EVENTS:
            if event not in present:
                say(f"creating trigger {COPY_TRIGGER}_{event.lower()}: {SHADOW} follows every {event}")
                self._ddl(self._copy_trigger(event))

    def copy(self, say):
        if not self.is_created():
            raise Refused(f"{SHADOW} and its triggers are not complete: run the create step first.")
        walk = _CopyWalk(self, backfill.get_batch_size(), get_batch_interval())
        say(f"copying {self.db_table} into {SHADOW} in committed pages of {walk.batch_size} rows")
        walk.run()
        late = self._late_indexes()
        if late:
            say(f"building the indexes of {SHADOW} on token_checksum and token (online: writes go on)")
            self._alter(self.shadow, late)

    def swap(self, say):
        if not self.is_swapped():
            if not self.is_created() or not self.copied_completely() or self._late_indexes():
                raise Refused(
                    f"{SHADOW} does not hold every row of {self.db_table} and its indexes yet: run the copy "
                    "first."
                )
            self.online.refuse_without_trigger_privileges("the swap moves")
            for fk in self.referencing():
                self._move_referencing(fk, say)
            self._take_over_foreign_keys(say)
            self._carry_auto_increment()
            say(f"renaming {self.db_table} to {OLD} and {SHADOW} to {self.db_table}")
            self._ddl(f"RENAME TABLE {self.table} TO {self.old}, {self.shadow} TO {self.table}")
        if self.online.has_trigger(SHADOW_FILL):
            say(f"the fill trigger of {self.db_table} takes its name {self.online.trigger}")
            # Dropping first the one of the old table: trigger names are per schema.
            self.online.create_trigger(self.online.trigger)
            self.online.drop_trigger(SHADOW_FILL)

    def drop_old(self, say):
        if not self.is_swapped() or self.online.has_trigger(SHADOW_FILL):
            raise Refused(f"{OLD} is dropped after the swap: run the swap first.")
        if self.exists(OLD):
            say(f"dropping {OLD} and its copy triggers")
            self._ddl(f"DROP TABLE {self.old}")

    def remove(self, say):
        """What a copy left beside the table, once 0012 is applied: the old table, or the copy of a run
        that a plain ``migrate`` overtook (its triggers first: writes to the table would fail without it)."""
        for event in COPY_EVENTS:
            name = f"{COPY_TRIGGER}_{event.lower()}"
            if event in self.copy_triggers():
                say(f"dropping trigger {name}")
                self._ddl(f"DROP TRIGGER IF EXISTS {name}")
        if self.exists(OLD):
            say(f"dropping {OLD}")
            self._ddl(f"DROP TABLE {self.old}")
        if self.exists(SHADOW):
            pointing = [fk.name for fk in self.referencing() if fk.to_table == SHADOW]
            if pointing:
                raise Refused(
                    f"the foreign keys {', '.join(pointing)} point at {SHADOW}, left by a swap that did not "
                    f"complete: point them at {self.db_table} again before dropping it."
                )
            say(f"dropping {SHADOW}, left by a table copy that 'migrate' overtook")
            self.online.drop_trigger(SHADOW_FILL)
            self._ddl(f"DROP TABLE {self.shadow}")

    def status(self):
        if self.is_swapped():
            old = "done"
            if self.exists(OLD):
                old = f"{OLD} still there ('tokenchecksum prepare' or 'finish' drops it)"
            return [f"table copy: swapped, {old}"]
        if not self.exists(SHADOW):
            return ["table copy: not started"]
        present, copied = self.estimated_rows(self.db_table), self.estimated_rows(SHADOW)
        share = f" ({100 * min(copied / present, 1):.0f}%)" if present else ""
        moved = [fk.name for fk in self.referencing() if fk.to_table == SHADOW]
        return [
            f"table copy: {SHADOW} exists, copy triggers {len(self.copy_triggers())}/{len(COPY_EVENTS)}",
            f"rows copied (estimated): {copied} of {present}{share}",
            f"foreign keys moved to {SHADOW}: {', '.join(moved) or 'none yet'}",
        ]

    # Refusing before the first change ----------------------------------------------------------------------

    def refuse_to_start(self, say):
        if not getattr(self.connection, "mysql_is_mariadb", False):
            raise Refused(
                "the table copy runs on MariaDB (it relies on SET STATEMENT ... FOR); on MySQL prepare with "
                "'--method in-place' (its default there). Nothing was changed."
            )
        if self.online.migration_state() != "0011":
            raise Refused(
                f"the table copy runs with the database at 0011; it is at {self.online._migration_words()}."
            )
        missing = self.missing_privileges()
        if missing:
            raise Refused(
                f"the table copy needs {', '.join(missing)} on this database, which the database user lacks "
                "(counted: global and database grants to the user itself). Nothing was changed."
            )
        self.online.refuse_without_trigger_privileges("the table copy creates")
        renamed = [fk.name for fk in self._kept_foreign_keys() if fk.name != self.django_name(fk)]
        if renamed:
            raise Refused(
                f"the foreign keys {', '.join(renamed)} are not named the way Django names them, and the "
                "copy would give them Django's names. Nothing was changed."
            )
        self.refuse_without_disk(say)

    def missing_privileges(self):
        user, _, host = self.online._scalar("SELECT CURRENT_USER()").rpartition("@")
        grantee = f"'{user}'@'{host}'"
        sql = (
            "SELECT privilege_type FROM information_schema.user_privileges WHERE grantee = %s UNION "
            "SELECT privilege_type FROM information_schema.schema_privileges WHERE grantee = %s "
            "AND DATABASE() LIKE table_schema"
        )
        granted = {privilege for (privilege,) in self._rows(sql, [grantee, grantee])}
        return [privilege for privilege in PRIVILEGES if privilege not in granted]

    def needed_bytes(self):
        size, rows = self._table_info("data_length + index_length, table_rows", self.db_table)
        return size + rows * CHECKSUM_BYTES_PER_ROW

    def free_bytes(self):
        """Free space where the server keeps its data, or None when that directory is not on this host."""
        hostname, datadir = self._rows("SELECT @@hostname, @@datadir")[0]
        if hostname != socket.gethostname() or not os.path.isdir(datadir):
            return None
        return _free_bytes(datadir)

    def refuse_without_disk(self, say):
        needed, free = self.needed_bytes(), self.free_bytes()
        if free is None:
            say(f"the copy needs about {_mib(needed)} free in the server's @@datadir (elsewhere: unchecked)")
        elif free < needed:
            raise Refused(
                f"the copy needs about {_mib(needed)} free in the server's @@datadir, which has "
                f"{_mib(free)}. Nothing was changed."
            )

    def _kept_foreign_keys(self):
        return self.own_foreign_keys(self.db_table) + self.referencing()

    # Step details ------------------------------------------------------------------------------------------

    def _ddl(self, sql, checks=True):
        """One DDL statement that waits at most ``DDL_LOCK_TIMEOUT_SECONDS`` for its lock, retried like
        ``prepare``'s; ``checks=False`` adds a foreign key without reading the tables (in place)."""
        settings = f"lock_wait_timeout={DDL_LOCK_TIMEOUT_SECONDS}"
        if not checks:
            settings += ", foreign_key_checks=0"
        self.online._ddl(lambda: self.online._execute(f"SET STATEMENT {settings} FOR {sql}"))

    def _alter(self, table, clauses, checks=True):
        """``ALTER TABLE`` in place, reads and writes going on: only metadata changes here."""
        self._ddl(f"ALTER TABLE {table} {', '.join(clauses)}, ALGORITHM=INPLACE, LOCK=NONE", checks)

    def _on(self, db_table):
        """mysql.py's SQL aimed at ``db_table``, a table with the same columns."""
        online = MySQLOnline(self.connection, self.model)
        online.db_table, online.table = db_table, self.quote(db_table)
        return online

    def _shape(self):
        """The clauses that give the empty copy 0012's definition."""
        token, checksum = self.online.token, self.online.checksum
        definition = f"varchar({CHECKSUM_LENGTH}) NOT NULL"
        has_checksum = self.online.checksum_column in self._columns(SHADOW)
        clauses = [
            f"MODIFY {token} longtext NOT NULL",
            f"{'MODIFY' if has_checksum else 'ADD COLUMN'} {checksum} {definition}",
        ]
        with self.connection.cursor() as cursor:
            constraints = self.connection.introspection.get_constraints(cursor, SHADOW)
        for name, constraint in constraints.items():
            if constraint["unique"] and not constraint["primary_key"]:
                if constraint["columns"] == [self.online.token_column]:
                    clauses.append(f"DROP INDEX {self.quote(name)}")
        return clauses

    def _late_indexes(self):
        """The clauses adding the copy's indexes on ``token_checksum`` and ``token`` that are missing.

        Built once the rows are in (online, sorted): kept up row by row through the copy, these two indexes
        on random values made it several times slower than the buffer pool could keep up with.
        """
        with self.connection.cursor() as cursor:
            constraints = self.connection.introspection.get_constraints(cursor, SHADOW)
        clauses = []
        if self.online.unique_index not in constraints:
            clauses.append(f"ADD UNIQUE INDEX {self.online.unique_index} ({self.online.checksum})")
        if self.online.token_index not in constraints:
            prefix = f"{self.online.token}({MySQLOnline.TOKEN_PREFIX_LENGTH})"
            clauses.append(f"ADD INDEX {self.online.token_index} ({prefix})")
        return clauses

    def _references(self, fk, to_table):
        quote = self.quote
        sql = f"FOREIGN KEY ({quote(fk.column)}) REFERENCES {quote(to_table)} ({quote(fk.to_column)})"
        for event, rule in (("DELETE", fk.delete_rule), ("UPDATE", fk.update_rule)):
            if rule != "RESTRICT":
                sql += f" ON {event} {rule}"
        return sql

    def _add_foreign_keys(self):
        clauses = [
            f"ADD CONSTRAINT {self.temporary_name(fk)} {self._references(fk, fk.to_table)}"
            for fk in self.own_foreign_keys(self.db_table)
        ]
        if clauses:
            self._alter(self.shadow, clauses, checks=False)

    def _copy_trigger(self, event):
        name = f"{COPY_TRIGGER}_{event.lower()}"
        head = f"CREATE TRIGGER {name} AFTER {event} ON {self.table} FOR EACH ROW"
        if event == "DELETE":
            return f"{head} DELETE FROM {self.shadow} WHERE {self.pk} = OLD.{self.pk}"
        columns = [c for c in self._columns(self.db_table) if c != self.online.checksum_column]
        quoted = [self.quote(c) for c in columns]
        hashed = backfill.MySQLBackfill.hash_sql.format(token=f"NEW.{self.online.token}")
        values = ", ".join([*(f"NEW.{c}" for c in quoted), hashed])
        updates = ", ".join(f"{c} = VALUES({c})" for c in [*quoted, self.online.checksum] if c != self.pk)
        # Not REPLACE: once the refresh tokens reference the copy, REPLACE deletes the row first and fails.
        upsert = (
            f"INSERT INTO {self.shadow} ({', '.join(quoted)}, {self.online.checksum}) VALUES ({values}) "
            f"ON DUPLICATE KEY UPDATE {updates}"
        )
        if event == "INSERT":
            return f"{head} {upsert}"
        pk = self.pk
        moved = f"IF NOT (OLD.{pk} <=> NEW.{pk}) THEN DELETE FROM {self.shadow} WHERE {pk} = OLD.{pk}; END IF"
        return f"{head} BEGIN {moved}; {upsert}; END"

    def _copied_columns(self):
        """The table's columns but the checksum, quoted (read once: the copy's pages ask for them each)."""
        if self._copied is None:
            columns = self._columns(self.db_table)
            self._copied = [self.quote(c) for c in columns if c != self.online.checksum_column]
        return self._copied

    def page_select_sql(self, where):
        """The rows of a window with their checksums, share-locked until the page commits: a row deleted
        or changed meanwhile is then repeated by the triggers after the page, never overwritten by it."""
        hashed = backfill.MySQLBackfill.hash_sql.format(token=self.online.token)
        columns = ", ".join(self._copied_columns())
        return f"SELECT {columns}, {hashed} FROM {self.table} WHERE {where} LOCK IN SHARE MODE"

    def page_insert_sql(self, rows):
        """One multi-row ``INSERT ... VALUES`` of ``rows`` into the copy, keeping the rows the triggers wrote.

        Not ``INSERT ... SELECT``: with an unknown row count InnoDB holds the copy's table-level AUTO-INC
        lock until the statement ends (``innodb_autoinc_lock_mode`` 1, MariaDB's default), so every trigger
        insert of the live site would wait for the page, and deadlock with it on the row the page reads.
        """
        columns = [*self._copied_columns(), self.online.checksum]
        row = f"({', '.join(['%s'] * len(columns))})"
        return (
            f"INSERT INTO {self.shadow} ({', '.join(columns)}) VALUES {', '.join([row] * len(rows))} "
            f"ON DUPLICATE KEY UPDATE {self.shadow}.{self.pk} = {self.shadow}.{self.pk}"
        )

    def _move_referencing(self, fk, say):
        """Point ``fk`` (of another table) at the copy under a temporary name, then under its own."""
        table, name = self.quote(fk.table), self.django_name(fk)
        if fk.to_table == self.db_table:
            say(f"pointing {fk.table}.{fk.column} at {SHADOW}")
            clause = f"ADD CONSTRAINT {self.temporary_name(fk)} {self._references(fk, SHADOW)}"
            self._alter(table, [f"DROP FOREIGN KEY {self.quote(fk.name)}", clause], checks=False)
            fk = replace(fk, name=self.temporary_name(fk), to_table=SHADOW)
        if fk.name != name:
            # MariaDB refuses to drop and add one name in the same statement.
            clause = f"ADD CONSTRAINT {self.quote(name)} {self._references(fk, SHADOW)}"
            self._alter(table, [f"DROP FOREIGN KEY {self.quote(fk.name)}", clause], checks=False)

    def _take_over_foreign_keys(self, say):
        """The table's foreign keys go (the copy's check the same rows through the triggers), and the
        copy's take their names."""
        own = self.own_foreign_keys(self.db_table)
        if own:
            say(f"dropping the foreign keys of {self.db_table}: those of {SHADOW} take their names")
            self._alter(self.table, [f"DROP FOREIGN KEY {self.quote(fk.name)}" for fk in own])
        renames = [
            f"DROP FOREIGN KEY {self.quote(fk.name)}, ADD CONSTRAINT {self.quote(self.django_name(fk))} "
            + self._references(fk, fk.to_table)
            for fk in self.own_foreign_keys(SHADOW)
            if fk.name != self.django_name(fk)
        ]
        if renames:
            # The index under each keeps its data: MariaDB only gives it the constraint's new name too.
            self._alter(self.shadow, renames, checks=False)

    def _carry_auto_increment(self):
        """Ids the table handed out and lost (deleted rows, rolled back inserts) are not handed out again."""
        (following,), (copied,) = (
            self._table_info("auto_increment", self.db_table),
            self._table_info("auto_increment", SHADOW),
        )
        if following and following > (copied or 0):
            self._alter(self.shadow, [f"AUTO_INCREMENT = {int(following)}"])


class _CopyWalk(KeysetWalk):
    """The windows of the table, each copied in one committed statement unless the copy has them all."""

    logger = logger
    verb = "copied"
    summary_level = logging.INFO

    def __init__(self, copier, batch_size, pause):
        super().__init__(copier.model, copier.connection, batch_size)
        self.copier = copier
        self.pause = pause
        self.wrote = False

    @property
    def label(self):
        return f"{self.copier.db_table} copy into {SHADOW}"

    def count(self):
        # An estimate for the progress lines; None (not 0) when the statistics know nothing yet.
        return self.copier.estimated_rows(self.copier.db_table) or None

    def process_window(self, lower, upper):
        conditions, params = self.pk_range(lower, upper)
        where = " AND ".join(conditions) or "TRUE"
        sql = (
            f"SELECT (SELECT COUNT(*) FROM {self.table} WHERE {where}), "
            f"(SELECT COUNT(*) FROM {self.copier.shadow} WHERE {where})"
        )
        _, rows = self._execute(sql, params * 2)
        present, copied = rows[0]
        self.wrote = present != copied
        if self.wrote:
            with transaction.atomic(using=self.connection.alias):
                _, found = self._execute(self.copier.page_select_sql(where), params)
                if found:
                    values = [value for row in found for value in row]
                    self._execute(self.copier.page_insert_sql(found), values)
        return present

    def after_window(self, rows):
        if self.wrote:  # a window copied before costs no pause
            super().after_window(rows)
