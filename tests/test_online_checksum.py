"""Migration 0012 while a site serves: the plain ``migrate`` and ``tokenchecksum prepare|status|finish``.

Live traffic is played by threads, each on its own database connection: "old code" writes tokens the way
pre-0012 code does (an INSERT without the checksum column) and reads them back by ``token``; "new code"
writes the checksum and reads by it. The migration runs in the test's own thread meanwhile.
"""

import hashlib
import io
import logging
import re
import secrets
import threading
import time

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, OperationalError, connections
from django.utils import timezone

from oauth2_provider import _batching, backfill
from oauth2_provider import _online_checksum as online
from oauth2_provider.models import get_access_token_model
from tests import test_migration_0012
from tests.test_migration_0012 import (
    AFTER,
    APP,
    BEFORE,
    TABLE,
    _Crash,
    _crash_after_pages,
    _scalar,
    assert_every_checksum_correct,
    columns,
    insert_tokens,
    is_applied,
    migrate,
    sha256_hex,
)


# The fixtures of the 0012 tests: the default database at 0011, and the backfill's batch size.
at_0011 = test_migration_0012.at_0011
batch_of = test_migration_0012.batch_of


def vendor(alias="default"):
    return connections[alias].vendor


def needs_server():
    if vendor() == "sqlite":
        pytest.skip("SQLite has no online path: a plain migrate is the way (tested below)")


def old_code_insert(cursor, token):
    """An INSERT as DOT 2.x / 3.0 before 0012 sends it: the model it knows has no checksum field."""
    now = timezone.now()
    cursor.execute(
        f"INSERT INTO {TABLE} (token, expires, scope, created, updated) VALUES (%s, %s, %s, %s, %s)",
        [token, now, "read", now, now],
    )


class LiveCode(threading.Thread):
    """One version of the site on its own connection: write a token, read it back, again and again."""

    def __init__(self, kind, pause=0.002):
        super().__init__(daemon=True)
        self.kind = kind
        self.pause = pause
        self.phase = "idle"
        self.calls = {}  # phase -> number of calls
        self.failures = []  # (phase, error text)
        self.stopping = threading.Event()

    def run(self):
        connection = connections["default"]  # this thread's own connection
        try:
            number = 0
            while not self.stopping.is_set():
                number += 1
                self.call(connection, f"live-{self.kind}-{number}")
                time.sleep(self.pause)
        finally:
            connection.close()

    def call(self, connection, token):
        phase = self.phase
        try:
            with connection.cursor() as cursor:
                if self.kind == "old":
                    old_code_insert(cursor, token)
                    cursor.execute(f"SELECT id FROM {TABLE} WHERE token = %s", [token])
                else:
                    now = timezone.now()
                    cursor.execute(
                        f"INSERT INTO {TABLE} (token, token_checksum, expires, scope, created, updated) "
                        "VALUES (%s, %s, %s, %s, %s, %s)",
                        [token, sha256_hex(token), now, "read", now, now],
                    )
                    cursor.execute(f"SELECT id FROM {TABLE} WHERE token_checksum = %s", [sha256_hex(token)])
                if cursor.fetchone() is None:
                    raise AssertionError(f"{token} written but not found")
        except (DatabaseError, AssertionError) as error:
            self.failures.append((phase, f"{type(error).__name__}: {error}"))
        self.calls[phase] = self.calls.get(phase, 0) + 1

    def stop(self):
        self.stopping.set()
        self.join(timeout=60)


class Site:
    """The live threads of a test; ``phase(name)`` labels what they record from then on."""

    def __init__(self, *kinds):
        self.threads = {kind: LiveCode(kind) for kind in kinds}

    def __enter__(self):
        for thread in self.threads.values():
            thread.start()
        return self

    def phase(self, name, kinds=None):
        """Label the calls from now on; return once every version live in this phase made one of them."""
        live = [thread for kind, thread in self.threads.items() if kinds is None or kind in kinds]
        for thread in self.threads.values():
            thread.phase = name if thread in live else "idle"
        deadline = time.monotonic() + 60
        while any(thread.calls.get(name, 0) < 2 for thread in live) and time.monotonic() < deadline:
            time.sleep(0.01)

    def __exit__(self, *exc_info):
        for thread in self.threads.values():
            thread.stop()

    def failures(self, kind):
        """The failed calls of ``kind`` in phases where that version runs (not those marked idle)."""
        return [(phase, text) for phase, text in self.threads[kind].failures if phase != "idle"]

    def calls(self, kind, phase):
        return self.threads[kind].calls.get(phase, 0)


def run_step(step, method=None):
    call_command("tokenchecksum", step, **({"method": method} if method else {}))


@pytest.fixture(params=["in-place", "copy"])
def method(request):
    """Each method of ``prepare``: in place everywhere, the table copy on MariaDB only."""
    if request.param == "copy":
        connection = connections["default"]
        if not getattr(connection, "mysql_is_mariadb", False):
            pytest.skip("the table copy of prepare is for MariaDB")
    return request.param


def missing_checksum_error(text):
    return "token_checksum" in text and re.search(r"null|default value", text, re.IGNORECASE)


# --- The plain path ----------------------------------------------------------------------------------------


def test_plain_migrate_completes_while_old_code_inserts_and_reads(at_0011, batch_of):
    """Item 1: no preparation, the site keeps serving; every row ends with its checksum."""
    needs_server()  # SQLite: one writer, in processes of their own below
    insert_tokens(at_0011, 3000)
    batch_of(100)  # many pages: old code's rows land behind and ahead of the backfill

    with Site("old") as site:
        site.phase("migrate")
        migrate(at_0011, AFTER)
        site.phase("after")

    assert is_applied(at_0011, AFTER)
    assert site.calls("old", "migrate") > 0
    # Pre-0012 code cannot insert once 0012 is applied without 'prepare' (the documented limit of the
    # plain path); anything else would be a failure of the migration itself.
    assert all(missing_checksum_error(text) for _, text in site.failures("old")), site.failures("old")
    rows = _scalar(at_0011, f"SELECT COUNT(*) FROM {TABLE}")
    assert_every_checksum_correct(at_0011, rows)
    assert not online.online_for(at_0011).has_trigger(online.BaseOnline.migration_trigger)


def _insert_from_another_connection(token):
    """Old code's INSERT on a connection of its own, finished before this returns."""
    errors = []

    def insert():
        try:
            with connections["default"].cursor() as cursor:
                old_code_insert(cursor, token)
        except DatabaseError as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections["default"].close()

    thread = threading.Thread(target=insert)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive() and not errors, errors


def test_mysql_row_inserted_after_the_backfill_gets_a_checksum(at_0011, monkeypatch):
    """The window that failed ``migrate`` with (1265, "Data truncated for column 'token_checksum'")."""
    if vendor() != "mysql":
        pytest.skip("only MySQL/MariaDB lets old code write between the backfill and NOT NULL")
    insert_tokens(at_0011, 50)
    original_run = backfill.BaseBackfill.run

    def run_then_old_code_inserts(self):
        written = original_run(self)
        _insert_from_another_connection(f"after-backfill-{time.monotonic_ns()}")
        return written

    monkeypatch.setattr(backfill.BaseBackfill, "run", run_then_old_code_inserts)

    migrate(at_0011, AFTER)

    assert is_applied(at_0011, AFTER)
    assert_every_checksum_correct(at_0011, _scalar(at_0011, f"SELECT COUNT(*) FROM {TABLE}"))


def test_mysql_plain_migrate_with_its_trigger_walks_the_table_once(at_0011, monkeypatch):
    """The trigger fills what old code writes after the backfill: no second pass before NOT NULL."""
    if vendor() != "mysql":
        pytest.skip("MySQL/MariaDB only")
    insert_tokens(at_0011, 40)
    original_fill = backfill.backfill_token_checksums
    fills = []

    def fill_then_old_code_inserts(*args, **kwargs):
        fills.append(original_fill(*args, **kwargs))
        _insert_from_another_connection(f"after-fill-{len(fills)}")
        return fills[-1]

    monkeypatch.setattr(backfill, "backfill_token_checksums", fill_then_old_code_inserts)

    migrate(at_0011, AFTER)

    assert fills == [40]
    assert is_applied(at_0011, AFTER)
    assert_every_checksum_correct(at_0011, 41)


def test_mysql_without_trigger_privilege_fills_the_rest_and_retries(at_0011, monkeypatch, caplog):
    """Where no trigger can be created, a row that slips in before NOT NULL is filled and NOT NULL retried."""
    if vendor() != "mysql":
        pytest.skip("MySQL/MariaDB only")
    insert_tokens(at_0011, 40)

    def refused(self, name):
        raise OperationalError(1142, "TRIGGER command denied to user 'site'@'%' for table 'accesstoken'")

    monkeypatch.setattr(online.MySQLOnline, "create_trigger", refused)
    original_fill = backfill.backfill_token_checksums
    fills = []

    def fill_then_a_row_slips_in(*args, **kwargs):
        written = original_fill(*args, **kwargs)
        fills.append(written)
        if len(fills) <= 2:  # after the backfill, and after the fill that precedes NOT NULL
            _insert_from_another_connection(f"slipped-{len(fills)}")
        return written

    monkeypatch.setattr(backfill, "backfill_token_checksums", fill_then_a_row_slips_in)
    caplog.set_level("INFO", logger="oauth2_provider.migrations")

    migrate(at_0011, AFTER)

    assert is_applied(at_0011, AFTER)
    assert_every_checksum_correct(at_0011, 42)
    assert fills == [40, 1, 1]  # the backfill; the row slipped in after it; the one NOT NULL then met
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "No trigger for the duration of 0012" in messages
    assert "retrying" in messages


def test_plain_migrate_on_sqlite_with_a_live_writer(tmp_path):
    """SQLite: ``manage.py migrate`` in its own process while another process's connection keeps writing."""
    import os
    import sqlite3
    import subprocess
    import sys

    env = {**os.environ, "DOT_TEST_DB": "sqlite", "DOT_TEST_DB_NAME": str(tmp_path / "site")}
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"

    def manage(*args, **kwargs):
        return subprocess.Popen([sys.executable, "-m", "django", *args], env=env, **kwargs)

    assert manage("migrate", "-v0").wait() == 0
    assert manage("migrate", "oauth2_provider", "0011", "-v0").wait() == 0
    path = tmp_path / "site.sqlite3"
    with sqlite3.connect(path) as db:
        db.executemany(
            f"INSERT INTO {TABLE} (token, expires, scope, created, updated) VALUES (?, '2030-01-01', '', "
            "'2026-01-01', '2026-01-01')",
            [(f"tok-{i}",) for i in range(3000)],
        )
    writes, errors = [], []
    stop = threading.Event()

    def writer():
        db = sqlite3.connect(path, timeout=60)
        number = 0
        while not stop.is_set():
            number += 1
            try:
                with db:
                    db.execute(
                        f"INSERT INTO {TABLE} (token, expires, scope, created, updated) VALUES "
                        "(?, '2030-01-01', '', '2026-01-01', '2026-01-01')",
                        [f"live-{number}"],
                    )
                writes.append(number)
            except sqlite3.Error as error:
                errors.append(str(error))
            time.sleep(0.002)
        db.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while not writes:
            time.sleep(0.01)
        migration = manage("migrate", "oauth2_provider", "0012", stderr=subprocess.PIPE, text=True)
        _, stderr = migration.communicate(timeout=300)
    finally:
        stop.set()
        thread.join()

    assert migration.returncode == 0, stderr
    assert writes
    # The one writer waits for the migration's lock; once 0012 is in, pre-0012 INSERTs lack the checksum.
    assert all("token_checksum" in error for error in errors), errors
    with sqlite3.connect(path) as db:
        rows = db.execute(f"SELECT token, token_checksum FROM {TABLE}").fetchall()
    assert len(rows) >= 3000 and all(checksum == sha256_hex(token) for token, checksum in rows)


def test_large_postgresql_table_warns_before_the_locked_backfill(at_0011, monkeypatch, caplog):
    if vendor() != "postgresql":
        pytest.skip("the warning is about PostgreSQL's table lock")
    insert_tokens(at_0011, 300)
    with connections[at_0011].cursor() as cursor:
        cursor.execute(f"ANALYZE {TABLE}")
    monkeypatch.setattr(online.postgresql, "LARGE_TABLE_ROWS", 200)
    caplog.set_level("WARNING", logger="oauth2_provider.migrations")

    migrate(at_0011, AFTER)

    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert f"{TABLE} holds about 300 rows" in warning
    assert f"about 0 s or more at {online.postgresql.PLAIN_MIGRATE_ROWS_PER_SECOND:,} rows/s" in warning
    assert "tokenchecksum prepare" in warning and "Rolling deploys without downtime" in warning


class LocksWhenWarned(logging.Handler):
    """Records the locks the migration's own connection holds on the token table when it warns."""

    def __init__(self, alias):
        super().__init__(logging.WARNING)
        self.alias = alias
        self.locks = None

    def emit(self, record):
        with connections[self.alias].cursor() as cursor:
            cursor.execute(
                "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND relation = %s::regclass", [TABLE]
            )
            self.locks = sorted(mode for (mode,) in cursor.fetchall())


def test_large_table_warning_without_statistics_comes_before_any_lock(at_0011, monkeypatch, caplog):
    # A table just loaded (a restore, a copy) has never been analysed: PostgreSQL says -1 rows.
    if vendor() != "postgresql":
        pytest.skip("the warning is about PostgreSQL's table lock")
    insert_tokens(at_0011, 300)
    with connections[at_0011].cursor() as cursor:
        cursor.execute("UPDATE pg_class SET reltuples = -1 WHERE oid = %s::regclass", [TABLE])
    monkeypatch.setattr(online.postgresql, "LARGE_TABLE_ROWS", 200)
    caplog.set_level("WARNING", logger="oauth2_provider.migrations")
    locks = LocksWhenWarned(at_0011)
    logging.getLogger("oauth2_provider.migrations").addHandler(locks)
    try:
        migrate(at_0011, AFTER)
    finally:
        logging.getLogger("oauth2_provider.migrations").removeHandler(locks)

    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert f"{TABLE} holds at least 200 rows" in warning
    # Only the bounded count's share lock: no ACCESS EXCLUSIVE yet, so nobody waits while it is read.
    assert locks.locks == ["AccessShareLock"]


def test_small_table_does_not_warn(at_0011, caplog):
    insert_tokens(at_0011, 30)
    caplog.set_level("WARNING", logger="oauth2_provider.migrations")

    migrate(at_0011, AFTER)

    assert [r for r in caplog.records if r.levelname == "WARNING"] == []


# --- The online path ----------------------------------------------------------------------------------------


def test_rolling_deploy_old_and_new_code_never_fail(at_0011, method):
    """prepare, migrate, rollout, finish while both versions serve: no call of a running version fails."""
    needs_server()
    insert_tokens(at_0011, 2000)

    with Site("old", "new") as site:
        site.phase("prepare", kinds={"old"})
        run_step("prepare", method)
        site.phase("migrate")
        migrate(at_0011, AFTER)
        site.phase("rollout")
        site.phase("finish", kinds={"new"})
        run_step("finish")
        site.phase("done", kinds={"new"})

    assert site.failures("old") == [] and site.failures("new") == []
    for kind, phases in {
        "old": ("prepare", "migrate", "rollout"),
        "new": ("migrate", "rollout", "finish"),
    }.items():
        assert all(site.calls(kind, phase) > 0 for phase in phases), site.threads[kind].calls
    rows = _scalar(at_0011, f"SELECT COUNT(*) FROM {TABLE}")
    assert rows > 2000
    assert_every_checksum_correct(at_0011, rows)


def _explain_old_code_lookup(alias):
    connection = connections[alias]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A tiny table may be scanned anyway: forbid that, so the plan shows whether an index can serve.
            cursor.execute("SET enable_seqscan = off")
            cursor.execute(f"EXPLAIN SELECT id FROM {TABLE} WHERE token = %s", ["live-old-1"])
            plan = " ".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET enable_seqscan")
            return plan
        cursor.execute(f"EXPLAIN SELECT id FROM {TABLE} WHERE token = %s", ["live-old-1"])
        names = [c[0] for c in cursor.description]
        return " ".join(str(dict(zip(names, row, strict=True))["key"]) for row in cursor.fetchall())


def test_after_migrate_old_code_inserts_get_a_checksum_and_lookups_use_an_index(at_0011, method):
    needs_server()
    insert_tokens(at_0011, 200)
    run_step("prepare", method)
    migrate(at_0011, AFTER)

    with connections[at_0011].cursor() as cursor:
        old_code_insert(cursor, "issued-by-old-code-after-0012")
    assert _explain_old_code_lookup(at_0011).count(online.BaseOnline.token_index) == 1

    run_step("finish")

    assert online.BaseOnline.token_index not in _explain_old_code_lookup(at_0011)
    assert_every_checksum_correct(at_0011, 201)
    with pytest.raises(DatabaseError, match="token_checksum"), connections[at_0011].cursor() as cursor:
        old_code_insert(cursor, "old-code-after-finish")


def test_tokens_of_any_length_are_saved_between_migrate_and_finish(at_0011, method):
    """A JWT from ACCESS_TOKEN_GENERATOR may be 8 kB: no helper object of the rollout limits ``token``."""
    needs_server()
    run_step("prepare", method)
    migrate(at_0011, AFTER)
    # Random, so that PostgreSQL cannot compress it under the btree limit of about 2,700 bytes.
    token = secrets.token_urlsafe(6000)

    get_access_token_model().objects.using(at_0011).create(token=token, expires=timezone.now(), scope="read")

    with connections[at_0011].cursor() as cursor:
        cursor.execute(f"SELECT token_checksum FROM {TABLE} WHERE token = %s", [token])
        assert list(cursor.fetchall()) == [(hashlib.sha256(token.encode()).hexdigest(),)]
    # Old code's lookups by token are still served by the helper index.
    assert online.BaseOnline.token_index in _explain_old_code_lookup(at_0011)
    run_step("finish")


def schema(alias):
    """What the database says about the token table: columns, constraints, indexes, triggers."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        description = [
            (c.name, c.type_code, c.null_ok)
            for c in connection.introspection.get_table_description(cursor, TABLE)
        ]
        constraints = connection.introspection.get_constraints(cursor, TABLE)
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [TABLE])
            catalog = sorted(cursor.fetchall())
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass",
                [TABLE],
            )
            catalog += sorted(cursor.fetchall())
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [TABLE]
            )
        else:
            cursor.execute(f"SHOW CREATE TABLE {TABLE}")
            catalog = re.sub(r" AUTO_INCREMENT=\d+", "", cursor.fetchone()[1])
            cursor.execute(
                "SELECT trigger_name FROM information_schema.triggers WHERE event_object_schema = DATABASE()"
            )
        triggers = sorted(cursor.fetchall())
    return description, constraints, catalog, triggers


def test_after_finish_the_schema_is_the_plain_migrate_schema(at_0011, method):
    needs_server()
    insert_tokens(at_0011, 100)
    run_step("prepare", method)
    migrate(at_0011, AFTER)
    run_step("finish")
    online_schema = schema(at_0011)

    migrate(at_0011, BEFORE)
    migrate(at_0011, AFTER)

    assert online_schema == schema(at_0011)
    assert online_schema[3] == []


def test_postgresql_steps_leave_no_session_setting_behind(at_0011):
    """Behind a transaction pooler a session setting outlives us on a shared server connection: every SET of
    prepare, migrate and finish is SET LOCAL inside a transaction of ours, and nothing needs a RESET."""
    if vendor() != "postgresql":
        pytest.skip("about PostgreSQL's session settings behind PgBouncer")
    insert_tokens(at_0011, 20)
    connection = connections[at_0011]
    settings_sent = []

    def record(execute, sql, params, many, context):
        if re.match(r"\s*(SET|RESET)\b", sql, re.IGNORECASE):
            settings_sent.append((sql, connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run_step("prepare", "in-place")
        migrate(at_0011, AFTER)
        run_step("finish")

    assert settings_sent, "the steps set their lock timeout"
    assert [
        (sql, atomic) for sql, atomic in settings_sent if not (sql.startswith("SET LOCAL") and atomic)
    ] == []


def test_steps_through_pgbouncer_leave_no_setting_to_the_other_clients_of_the_pool(at_0011, bouncer):
    """Through a real PgBouncer in transaction pooling, with another client on the pool all along."""
    insert_tokens(at_0011, 200)
    stop = threading.Event()
    seen = []

    import psycopg  # the PostgreSQL environments' driver; the fixture has skipped the others

    settings = connections[bouncer].settings_dict

    def other_client():
        # Another application on the pool, outside Django: every statement its own transaction.
        with psycopg.connect(
            host=settings["HOST"],
            port=settings["PORT"],
            user=settings["USER"],
            dbname=settings["NAME"],
            password=settings["PASSWORD"],
            autocommit=True,
            prepare_threshold=None,  # no server-side prepared statements behind a transaction pooler
        ) as connection:
            while not stop.is_set():
                seen.append(connection.execute("SHOW lock_timeout").fetchone()[0])

    # More clients than server connections: each of our statements may land on either of the two.
    clients = [threading.Thread(target=other_client) for _ in range(3)]
    for client in clients:
        client.start()
    try:
        call_command("tokenchecksum", "prepare", database=bouncer, stdout=io.StringIO())
        call_command("migrate", APP, AFTER[1], database=bouncer, verbosity=0)
        call_command("tokenchecksum", "finish", database=bouncer, stdout=io.StringIO())
    finally:
        stop.set()
        for client in clients:
            client.join()

    assert seen and set(seen) == {"0"}
    assert online.online_for(at_0011).helpers_left() == []
    assert_every_checksum_correct(at_0011, 200)


def test_status_tells_each_stage_and_the_next_step(at_0011, method):
    needs_server()
    insert_tokens(at_0011, 10)

    def status():
        from io import StringIO

        out = StringIO()
        call_command("tokenchecksum", "status", stdout=out)
        return out.getvalue()

    before = status()
    assert (
        "token_checksum column: absent" in before and "next step: 'manage.py tokenchecksum prepare'" in before
    )
    run_step("prepare", method)
    prepared = status()
    assert "trigger dotlts_tc_fill: present" in prepared and "rows without a checksum: 0" in prepared
    if vendor() == "mysql" and method == "in-place":
        # 0012 still changes token to longtext, which copies the table while writes wait.
        assert "next step: 'manage.py migrate' (prepared in place: writes wait" in prepared
        assert "'manage.py tokenchecksum prepare --method copy' avoids that" in prepared
    else:
        assert "next step: 'manage.py migrate' (prepared: brief locks only)" in prepared
    migrate(at_0011, AFTER)
    rolling_out = status()
    assert "next step: 'manage.py tokenchecksum finish'" in rolling_out
    assert "before going back to upstream django-oauth-toolkit" in rolling_out
    run_step("finish")
    finished = status()
    assert "trigger dotlts_tc_fill: absent" in finished and "next step: none" in finished


def helpers_warnings(alias):
    return [m for m in checks.run_checks(databases=[alias]) if m.id == "oauth2_provider.W006"]


def test_a_system_check_warns_while_the_helpers_of_prepare_remain_after_0012(at_0011, method):
    # Going back to upstream with them left keeps them for good: upstream cannot remove them.
    needs_server()
    run_step("prepare", method)
    assert helpers_warnings(at_0011) == []  # before 0012 they are the rollout's, as they should be
    migrate(at_0011, AFTER)

    [warning] = helpers_warnings(at_0011)

    assert "dotlts_tc_fill" in warning.msg and online.BaseOnline.token_index in warning.msg
    assert "tokenchecksum finish --database default" in warning.hint
    assert "before going back to upstream django-oauth-toolkit" in warning.hint
    run_step("finish")
    assert helpers_warnings(at_0011) == []


def test_prepare_resumes_after_an_interrupted_backfill(at_0011, batch_of, monkeypatch):
    needs_server()
    insert_tokens(at_0011, 500)
    batch_of(100)
    with monkeypatch.context() as patch:
        _crash_after_pages(patch, 3)  # a kill after three committed pages
        with pytest.raises(_Crash):
            run_step("prepare", "in-place")
    assert _scalar(at_0011, f"SELECT COUNT(*) FROM {TABLE} WHERE token_checksum IS NULL") == 200

    run_step("prepare", "in-place")

    assert online.online_for(at_0011).is_prepared()
    migrate(at_0011, AFTER)
    assert_every_checksum_correct(at_0011, 500)


def test_prepare_rebuilds_an_index_left_invalid_by_a_killed_build(at_0011):
    """PostgreSQL: a killed CREATE INDEX CONCURRENTLY leaves an INVALID index behind."""
    if vendor() != "postgresql":
        pytest.skip("only PostgreSQL keeps an index an interrupted build left unusable")
    insert_tokens(at_0011, 50)
    run_step("prepare", "in-place")
    steps = online.online_for(at_0011)
    with connections[at_0011].cursor() as cursor:
        cursor.execute(
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass", [steps.unique_index]
        )
    assert steps.index_state(steps.unique_index) == "invalid" and not steps.is_prepared()

    run_step("prepare", "in-place")

    assert steps.index_state(steps.unique_index) == "valid"
    migrate(at_0011, AFTER)
    run_step("finish")
    assert_every_checksum_correct(at_0011, 50)


def test_migrate_after_an_unfinished_prepare_still_completes(at_0011, monkeypatch):
    """A prepare stopped before its indexes: migrate builds what is missing itself."""
    needs_server()
    insert_tokens(at_0011, 60)
    with monkeypatch.context() as patch:
        patch.setattr(online.BaseOnline, "_build_index", lambda self, name, purpose, say: None)
        run_step("prepare", "in-place")

    migrate(at_0011, AFTER)
    with connections[at_0011].cursor() as cursor:
        old_code_insert(cursor, "old-code-between-migrate-and-finish")
    run_step("finish")

    assert_every_checksum_correct(at_0011, 61)


def test_ddl_waits_out_a_long_transaction_instead_of_failing(at_0011, monkeypatch, caplog):
    """A transaction holding the table delays prepare's DDL (short lock timeout, retried), not fails it."""
    needs_server()
    insert_tokens(at_0011, 20)
    monkeypatch.setattr(online.base, "DDL_LOCK_TIMEOUT_SECONDS", 1)
    holding = threading.Event()

    def long_transaction():
        from django.db import transaction

        connection = connections["default"]
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
                holding.set()
                time.sleep(2.5)
        finally:
            connection.close()

    holder = threading.Thread(target=long_transaction)
    holder.start()
    holding.wait(10)
    caplog.set_level("INFO", logger="oauth2_provider.migrations")

    run_step("prepare", "in-place")
    holder.join()

    assert any("lock not granted within 1s" in r.getMessage() for r in caplog.records)
    assert online.online_for(at_0011).is_prepared()


def test_unapplying_a_prepared_0012_removes_the_trigger(at_0011, method):
    needs_server()
    insert_tokens(at_0011, 10)
    run_step("prepare", method)
    migrate(at_0011, AFTER)

    migrate(at_0011, BEFORE)

    assert "token_checksum" not in columns(at_0011)
    with connections[at_0011].cursor() as cursor:
        old_code_insert(cursor, "old-code-back-at-0011")  # no trigger left to reference the dropped column
    assert schema(at_0011)[3] == []


# --- Misuse ------------------------------------------------------------------------------------------------


def test_prepare_refuses_a_database_past_0011(transactional_db):
    needs_server()
    with pytest.raises(CommandError, match="prepare runs with the database at oauth2_provider 0011"):
        run_step("prepare")


def test_postgresql_refuses_the_table_copy_and_names_the_method_it_has(at_0011):
    if vendor() != "postgresql":
        pytest.skip("the copy is MariaDB's (tests/test_shadow_copy.py); SQLite has no online path")
    with pytest.raises(CommandError, match=r"the table copy \('--method copy'\) is for MariaDB.*in-place"):
        run_step("prepare", "copy")
    assert "token_checksum" not in columns(at_0011)


def test_finish_refuses_before_0012(at_0011):
    needs_server()
    with pytest.raises(CommandError, match="finish removes what prepare added once oauth2_provider 0012"):
        run_step("finish")


def test_swapped_access_token_model_is_refused_with_what_to_do(transactional_db, settings):
    settings.OAUTH2_PROVIDER = {"ACCESS_TOKEN_MODEL": "backfill_app.ProjectAccessToken"}
    for step in ("prepare", "status", "finish"):
        with pytest.raises(CommandError, match="backfill_token_checksums"):
            run_step(step)


def test_mysql_missing_trigger_privilege_is_named(at_0011, method):
    """A real database user without the TRIGGER privilege gets a CommandError saying which one is missing."""
    if vendor() != "mysql":
        pytest.skip("MySQL/MariaDB only")
    connection = connections[at_0011]
    database = connection.settings_dict["NAME"]
    user = f"{database[:24]}_notrig"  # the test database's name keeps parallel runs apart
    with connection.cursor() as cursor:
        cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        cursor.execute(f"CREATE USER '{user}'@'%'")
        cursor.execute(
            "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP "
            f"ON `{database}`.* TO '{user}'@'%'"
        )
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(USER=user, PASSWORD="")
    try:
        # The copy counts the privileges before its first change; in place, the server's refusal is explained.
        problem = "needs TRIGGER on this database" if method == "copy" else "lacks the TRIGGER privilege"
        with pytest.raises(CommandError, match=problem):
            run_step("prepare", method)
    finally:
        connection.close()
        connection.settings_dict.update(saved)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")


def test_sqlite_explains_that_migrate_is_the_way(at_0011, capsys):
    if vendor() != "sqlite":
        pytest.skip("SQLite only")
    for step in ("prepare", "status", "finish"):
        run_step(step)  # exits 0
    out = capsys.readouterr().out
    assert out.count("run 'manage.py migrate'") >= 2 and "nothing to finish on SQLite" in out
    assert "token_checksum" not in columns(at_0011)


def test_prepare_pauses_between_pages_as_configured(at_0011, batch_of, settings, monkeypatch):
    needs_server()
    insert_tokens(at_0011, 500)
    batch_of(100)
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "TOKEN_CHECKSUM_BATCH_INTERVAL": 0.01}
    pauses = []
    monkeypatch.setattr(_batching.time, "sleep", pauses.append)

    run_step("prepare", "in-place")

    assert len(pauses) >= 4 and set(pauses) == {0.01}
    assert _scalar(at_0011, f"SELECT COUNT(*) FROM {TABLE} WHERE token_checksum IS NULL") == 0


@pytest.mark.parametrize("pause", [-1, "1", True, None])
def test_system_check_refuses_a_bad_batch_interval(settings, pause):
    from django.core.management.base import SystemCheckError

    settings.OAUTH2_PROVIDER = {"TOKEN_CHECKSUM_BATCH_INTERVAL": pause}

    with pytest.raises(SystemCheckError, match=r"oauth2_provider\.E004.*TOKEN_CHECKSUM_BATCH_INTERVAL"):
        call_command("check")


def test_old_code_changing_a_token_gets_the_new_checksum(at_0011, method):
    """The trigger also covers UPDATE: a changed token, even one differing only in case, is hashed again."""
    needs_server()
    with connections[at_0011].cursor() as cursor:
        old_code_insert(cursor, "renamed-token")
    run_step("prepare", method)

    with connections[at_0011].cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET token = %s WHERE token = %s", ["RENAMED-token", "renamed-token"])
        cursor.execute(f"UPDATE {TABLE} SET scope = %s", ["write"])  # an update that leaves token alone

    assert_every_checksum_correct(at_0011, 1)
    assert _scalar(at_0011, f"SELECT token_checksum FROM {TABLE}") == sha256_hex("RENAMED-token")
