"""``OAUTH2_PROVIDER["TOKEN_CHECKSUM_MIGRATION_LOCK_TIMEOUT"]``: how long migration 0012 waits for its locks.

A "blocker" is another client holding a lock on the access token table: a transaction that read it and
stays open, on a direct connection of its own (the driver's, outside Django). On PostgreSQL migrate runs
through a real PgBouncer in transaction pooling (``tests/pgbouncer.py``) with other clients on the pool.
"""

import importlib
import re
import threading
import time

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connections

from oauth2_provider import _online_checksum as online
from tests import test_migration_0012
from tests.test_migration_0012 import (
    AFTER,
    APP,
    TABLE,
    assert_every_checksum_correct,
    columns,
    insert_tokens,
    is_applied,
    migrate,
)


at_0011 = test_migration_0012.at_0011
SETTING = "TOKEN_CHECKSUM_MIGRATION_LOCK_TIMEOUT"


@pytest.fixture
def lock_timeout(settings):
    def set_lock_timeout(seconds):
        settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, SETTING: seconds}

    return set_lock_timeout


def direct_connection(alias="default", port=None, autocommit=False):
    """A connection of the database driver to ``alias``'s database, outside Django."""
    server = connections[alias].settings_dict
    if connections[alias].vendor == "postgresql":
        import psycopg

        return psycopg.connect(
            host=server["HOST"],
            port=port or server["PORT"],
            user=server["USER"],
            password=server["PASSWORD"],
            dbname=server["NAME"],
            autocommit=autocommit,
            prepare_threshold=None,  # no server-side prepared statements behind a transaction pooler
        )
    import MySQLdb

    connection = MySQLdb.connect(
        host=server["HOST"],
        port=int(server["PORT"]),
        user=server["USER"],
        password=server["PASSWORD"],
        database=server["NAME"],
    )
    connection.autocommit(autocommit)
    return connection


class Blocker:
    """An open transaction that has read the token table: it holds a lock that every ALTER TABLE waits for
    (ACCESS SHARE on PostgreSQL, a shared metadata lock on MariaDB) until ``release()``."""

    def __init__(self, alias="default"):
        self.connection = direct_connection(alias)
        cursor = self.connection.cursor()
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
        cursor.fetchall()

    def release(self, after=0):
        time.sleep(after)
        self.connection.commit()
        self.connection.close()

    def release_later(self, after):
        thread = threading.Thread(target=self.release, args=(after,))
        thread.start()
        return thread


def postgresql_through_pgbouncer(bouncer):
    if connections["default"].vendor != "postgresql":
        pytest.skip("PostgreSQL through PgBouncer")
    return connections[bouncer].settings_dict["PORT"]


class PoolClients:
    """Other clients of the PgBouncer pool, outside Django, while and after migrate runs.

    Three of them read ``SHOW lock_timeout`` in a loop (more clients than the two server connections, so
    they meet every server connection); ``wait_on_a_row_lock`` makes one wait for a row lock longer than
    the migration's timeout.
    """

    def __init__(self, port):
        self.port = port
        self.seen = []
        self.row_lock_errors = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.show_lock_timeout) for _ in range(3)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        for thread in self.threads:
            thread.join(60)

    def show_lock_timeout(self):
        with direct_connection(port=self.port, autocommit=True) as connection:
            while not self.stop.is_set():
                self.seen.append(connection.execute("SHOW lock_timeout").fetchone()[0])
                time.sleep(0.01)

    def wait_on_a_row_lock(self, seconds):
        """Another client updates a row a direct transaction holds for ``seconds``: it waits, not fails."""
        holder = direct_connection()
        holder.execute("UPDATE auth_user SET last_name = 'held' WHERE username = 'owner'")

        def waiter():
            try:
                with direct_connection(port=self.port, autocommit=True) as connection:
                    connection.execute("UPDATE auth_user SET first_name = 'waited' WHERE username = 'owner'")
            except Exception as error:  # whatever it is, the test reports it
                self.row_lock_errors.append(f"{type(error).__name__}: {error}")

        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(seconds)
        holder.commit()
        holder.close()
        thread.join(60)


# --- PostgreSQL through PgBouncer ---------------------------------------------------------------------------


def test_postgresql_gives_up_with_a_clear_error_while_a_transaction_holds_the_table(
    at_0011, bouncer, lock_timeout, caplog
):
    port = postgresql_through_pgbouncer(bouncer)
    insert_tokens(at_0011, 50)
    lock_timeout(0.5)
    blocker = Blocker()
    caplog.set_level("INFO", logger="oauth2_provider.migrations")
    try:
        with PoolClients(port) as clients:
            # Meanwhile another client of the pool waits 1.5 s for a row lock, three times the timeout.
            waiting = threading.Thread(target=clients.wait_on_a_row_lock, args=(1.5,))
            waiting.start()
            started = time.monotonic()
            with pytest.raises(online.LockNotGranted) as refused:
                call_command("migrate", APP, AFTER[1], database=bouncer, verbosity=0)
            elapsed = time.monotonic() - started
            waiting.join(60)
    finally:
        blocker.release()

    message = str(refused.value)
    assert "gave up: no lock on oauth2_provider_accesstoken within 0.5s, 3 times" in message
    assert "Nothing was changed: 0012_add_token_checksum rolled back and is not applied" in message
    assert re.search(
        r"Holding a lock on it: PostgreSQL pid \d+ \(AccessShareLock\), a transaction left open", message
    )
    assert "SELECT COUNT(*) FROM oauth2_provider_accesstoken" in message
    assert "pg_terminate_backend" in message and "tokenchecksum prepare" in message
    # Three waits of 0.5 s and the pauses between them (1 s, 2 s).
    assert 4 <= elapsed < 30
    assert [r.getMessage() for r in caplog.records if "lock not granted" in r.getMessage()] == [
        "lock not granted within 0.5s (attempt 1): retrying",
        "lock not granted within 0.5s (attempt 2): retrying",
    ]
    assert not is_applied(at_0011, AFTER)
    assert "token_checksum" not in columns(at_0011)
    assert clients.row_lock_errors == []
    assert clients.seen and set(clients.seen) == {"0"}


def test_postgresql_completes_once_the_blocker_lets_go_and_leaves_no_setting(at_0011, bouncer, lock_timeout):
    port = postgresql_through_pgbouncer(bouncer)
    insert_tokens(at_0011, 50)
    lock_timeout(0.5)
    blocker = Blocker()
    released = blocker.release_later(1.0)
    with PoolClients(port) as clients:
        call_command("migrate", APP, AFTER[1], database=bouncer, verbosity=0)
        released.join()
        # Afterwards too, on whichever server connection the migration used.
        clients.wait_on_a_row_lock(1.5)

    assert is_applied(at_0011, AFTER)
    assert_every_checksum_correct(at_0011, 50)
    assert clients.row_lock_errors == []
    assert clients.seen and set(clients.seen) == {"0"}


def test_postgresql_sets_the_timeout_only_for_0012s_transaction(at_0011, lock_timeout):
    if connections["default"].vendor != "postgresql":
        pytest.skip("PostgreSQL's SET LOCAL")
    insert_tokens(at_0011, 20)
    lock_timeout(0.25)
    connection = connections[at_0011]
    sent = []

    def record(execute, sql, params, many, context):
        if re.match(r"\s*(SET|RESET|LOCK)\b", sql, re.IGNORECASE):
            sent.append((sql, connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        migrate(at_0011, AFTER)

    assert sent[:2] == [
        ("SET LOCAL lock_timeout = '250ms'", True),
        (f'LOCK TABLE "{TABLE}" IN ACCESS EXCLUSIVE MODE', True),
    ]
    assert [sql for sql, atomic in sent if not (atomic and sql.startswith(("SET LOCAL", "LOCK")))] == []
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "0"


# --- MariaDB ------------------------------------------------------------------------------------------------


def needs_mariadb():
    connection = connections["default"]
    if connection.vendor != "mysql" or not connection.mysql_is_mariadb:
        pytest.skip("MariaDB's SET STATEMENT (MySQL keeps a session setting, and no MySQL server is tested)")


def session_lock_wait_timeout(alias):
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT @@SESSION.lock_wait_timeout")
        return cursor.fetchone()[0]


def session_settings_sent(connection):
    """An execute wrapper and the list of SET statements (other than SET STATEMENT) it sees."""
    sent = []

    def record(execute, sql, params, many, context):
        # A statement of the table copy carries its own SET STATEMENT: a setting of that statement alone.
        per_statement = re.match(r"\s*SET\s+STATEMENT\b", sql, re.IGNORECASE)
        if re.match(r"\s*SET\s+(?!STATEMENT\b)", sql, re.IGNORECASE) or (
            "lock_wait_timeout" in sql and not per_statement
        ):
            sent.append(sql)
        return execute(sql, params, many, context)

    return record, sent


def test_mariadb_gives_up_on_a_metadata_lock_then_a_rerun_completes(at_0011, lock_timeout):
    needs_mariadb()
    insert_tokens(at_0011, 50)
    lock_timeout(1)
    connection = connections[at_0011]
    before = session_lock_wait_timeout(at_0011)
    record, sent = session_settings_sent(connection)
    blocker = Blocker()
    try:
        with connection.execute_wrapper(record), pytest.raises(online.LockNotGranted) as refused:
            call_command("migrate", APP, AFTER[1], verbosity=0)
    finally:
        blocker.release()

    message = str(refused.value)
    assert "gave up: no lock on oauth2_provider_accesstoken within 1s, 3 times" in message
    assert "0012_add_token_checksum is not applied" in message and "resumes" in message
    assert re.search(
        r"holds its metadata lock\): .*thread \d+, open since [-\d: ]+, idle; end it with KILL", message
    )
    assert not is_applied(at_0011, AFTER)
    assert "token_checksum" not in columns(at_0011)  # its first ALTER TABLE gave up

    with connection.execute_wrapper(record):
        call_command("migrate", APP, AFTER[1], verbosity=0)

    assert is_applied(at_0011, AFTER)
    assert_every_checksum_correct(at_0011, 50)
    assert sent == []
    assert session_lock_wait_timeout(at_0011) == before


def test_mariadb_stops_where_a_later_step_is_blocked_and_resumes_from_there(
    at_0011, lock_timeout, monkeypatch
):
    """The lock of the last step is refused: what 0012 did before stays, and the rerun finishes it."""
    needs_mariadb()
    insert_tokens(at_0011, 30)
    lock_timeout(1)
    fill_step = importlib.import_module(f"{APP}.migrations.{AFTER[1]}").Migration.operations[2]
    fill = fill_step.code
    blockers = []

    def fill_then_get_blocked(apps, schema_editor):
        fill(apps, schema_editor)
        blockers.append(Blocker())  # reads the table before the last step's ALTER TABLE

    monkeypatch.setattr(fill_step, "code", fill_then_get_blocked)
    try:
        with pytest.raises(online.LockNotGranted, match="is not applied: what it did before this statement"):
            call_command("migrate", APP, AFTER[1], verbosity=0)
    finally:
        for blocker in blockers:
            blocker.release()
    monkeypatch.undo()

    assert not is_applied(at_0011, AFTER)
    assert "token_checksum" in columns(at_0011)
    call_command("migrate", APP, AFTER[1], verbosity=0)
    assert is_applied(at_0011, AFTER)
    assert_every_checksum_correct(at_0011, 30)


@pytest.mark.parametrize("method", ["in-place", "copy"])
def test_mariadb_prepare_and_finish_send_no_session_setting(at_0011, lock_timeout, method):
    needs_mariadb()
    insert_tokens(at_0011, 20)
    lock_timeout(2)
    connection = connections[at_0011]
    before = session_lock_wait_timeout(at_0011)
    record, sent = session_settings_sent(connection)

    with connection.execute_wrapper(record):
        call_command("tokenchecksum", "prepare", method=method)
        call_command("migrate", APP, AFTER[1], verbosity=0)
        call_command("tokenchecksum", "finish")

    assert sent == []
    assert session_lock_wait_timeout(at_0011) == before
    assert online.online_for(at_0011).helpers_left() == []


# --- Every database -----------------------------------------------------------------------------------------


def test_unblocked_migrate_with_the_setting_completes(at_0011, lock_timeout):
    """Nothing holds the table: 0012 runs as without the setting (on SQLite the setting has no effect)."""
    insert_tokens(at_0011, 40)
    lock_timeout(0.5)

    migrate(at_0011, AFTER)

    assert_every_checksum_correct(at_0011, 40)


BAD_VALUES = ["5", "", -1, 0, 0.0, True, False, float("nan"), float("inf"), 86401, 10**12, [], {}, object()]


@pytest.mark.parametrize("value", BAD_VALUES, ids=repr)
def test_a_bad_lock_timeout_is_check_error_e009(lock_timeout, value):
    lock_timeout(value)

    errors = [message for message in checks.run_checks() if message.id == "oauth2_provider.E009"]
    with pytest.raises(
        SystemCheckError, match=r"oauth2_provider\.E009.*TOKEN_CHECKSUM_MIGRATION_LOCK_TIMEOUT"
    ):
        call_command("check")

    assert [error.level for error in errors] == [checks.ERROR]
    assert "must be None or a number of seconds, more than 0 and at most 86400" in errors[0].msg


@pytest.mark.parametrize("value", [None, 0.001, 0.5, 5, 86400])
def test_a_good_lock_timeout_passes_the_check(lock_timeout, value):
    lock_timeout(value)

    assert [message for message in checks.run_checks() if message.id == "oauth2_provider.E009"] == []


def test_a_bad_lock_timeout_stops_0012_before_its_first_change(at_0011, lock_timeout):
    """``call_command`` skips the checks: 0012 itself refuses the value before it touches the table."""
    lock_timeout("5s")

    with pytest.raises(ImproperlyConfigured, match=SETTING):
        migrate(at_0011, AFTER)

    assert not is_applied(at_0011, AFTER)
    assert "token_checksum" not in columns(at_0011)
