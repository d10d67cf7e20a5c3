"""The table copier of the online path on MariaDB (``_online_checksum.copier``), alone and as the
``copy`` method of ``tokenchecksum prepare`` (MariaDB's default).

The access token table at 0011 becomes 0012's table through a copy kept in step by triggers and one
``RENAME TABLE``, while "old code" (pre-0012: INSERT without checksum, lookups by ``token``, updates,
deletes, refresh tokens) writes on a connection of its own. Run on the real server of ``DOT_TEST_DB=mysql``.
"""

import io
import re
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connections
from django.utils import timezone

from oauth2_provider import _online_checksum as online
from oauth2_provider._online_checksum import copier
from oauth2_provider._online_checksum.copier import OLD, SHADOW, ShadowCopy
from oauth2_provider.models import get_access_token_model, get_application_model, get_refresh_token_model
from tests import test_migration_0012
from tests.settings import BACKEND
from tests.test_migration_0012 import (
    AFTER,
    BEFORE,
    TABLE,
    _scalar,
    assert_every_checksum_correct,
    insert_tokens,
    migrate,
    sha256_hex,
)
from tests.test_online_checksum import old_code_insert


pytestmark = pytest.mark.skipif(
    BACKEND != "mysql", reason="the table copier is for MariaDB, whose ALTER to longtext blocks writes"
)

# The fixtures of the 0012 tests: the default database at 0011, and the backfill's batch size.
at_0011 = test_migration_0012.at_0011
batch_of = test_migration_0012.batch_of

REFRESH_TABLE = "oauth2_provider_refreshtoken"


@pytest.fixture
def db_0011(at_0011):
    if not connections[at_0011].mysql_is_mariadb:
        pytest.skip("the table copier relies on MariaDB's SET STATEMENT ... FOR")
    yield at_0011
    _clean_up(at_0011)


def _clean_up(alias):
    """What a failed test may leave behind, before the fixture migrates the table forward again."""
    with connections[alias].cursor() as cursor:
        for event in copier.COPY_EVENTS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {copier.COPY_TRIGGER}_{event.lower()}")
        cursor.execute(f"DROP TABLE IF EXISTS {OLD}")
        cursor.execute(f"SET STATEMENT foreign_key_checks=0 FOR DROP TABLE IF EXISTS {SHADOW}")


def steps(alias="default"):
    return ShadowCopy(connections[alias], get_access_token_model())


def run(step, alias="default"):
    said = []
    getattr(steps(alias), step)(said.append)
    return said


def show_create(alias, table):
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SHOW CREATE TABLE {table}")
        return re.sub(r" AUTO_INCREMENT=\d+", "", cursor.fetchone()[1])


def our_objects(alias):
    """The tables and triggers of the online path in the schema, and where the refresh tokens point."""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
            "AND table_name LIKE 'dotlts%%'"
        )
        tables = sorted(row[0] for row in cursor.fetchall())
        cursor.execute(
            "SELECT trigger_name, event_object_table FROM information_schema.triggers "
            "WHERE trigger_schema = DATABASE()"
        )
        triggers = sorted(cursor.fetchall())
    return tables, triggers, refresh_token_reference(alias)


def refresh_token_reference(alias):
    """(constraint name, referenced table) of the refresh tokens' foreign key to the access tokens."""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT constraint_name, referenced_table_name FROM information_schema.key_column_usage "
            "WHERE table_schema = DATABASE() AND table_name = %s AND column_name = 'access_token_id' "
            "AND referenced_table_name IS NOT NULL",
            [REFRESH_TABLE],
        )
        return cursor.fetchall()


def owners():
    """A user and an application, created with the ORM (their tables are the same at 0011 and 0012)."""
    user = get_user_model().objects.create(username=f"owner-{time.monotonic_ns()}")
    application = get_application_model().objects.create(
        name="app", user=user, client_type="public", authorization_grant_type="password"
    )
    return user.pk, application.pk


def insert_refresh_token(cursor, token, access_token_id, owner):
    now = timezone.now()
    user_id, application_id = owner
    cursor.execute(
        f"INSERT INTO {REFRESH_TABLE} (token, access_token_id, application_id, user_id, created, updated) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        [token, access_token_id, application_id, user_id, now, now],
    )


# --- The shape ----------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
@pytest.mark.parametrize("prepared", [False, True], ids=["from-0011", "after-prepare"])
def test_after_the_swap_the_table_is_the_plainly_migrated_one(db_0011, prepared):
    insert_tokens(db_0011, 300)
    if prepared:  # prepare's column, indexes and fill trigger on the table: the copy takes them along
        online.online_for(db_0011).prepare(lambda line: None, method="in-place")
    for step in ("create", "copy", "swap", "drop_old"):
        run(step)
    swapped = show_create(db_0011, TABLE)
    refresh = show_create(db_0011, REFRESH_TABLE)
    # What remains until 'finish': old code's index on token, and the trigger filling its checksums.
    mysql = online.MySQLOnline(connections[db_0011], get_access_token_model())
    assert mysql.index_state(mysql.token_index) == "valid" and mysql.trigger_complete(mysql.trigger)
    mysql.drop_index(mysql.token_index)
    finished = show_create(db_0011, TABLE)

    migrate("other", BEFORE)
    try:
        migrate("other", AFTER)
        plain, plain_refresh = show_create("other", TABLE), show_create("other", REFRESH_TABLE)
    finally:
        migrate("other", None)

    assert finished == plain
    assert refresh == plain_refresh
    token_index_line = [line for line in swapped.splitlines() if mysql.token_index in line]
    assert [line for line in swapped.splitlines() if line not in token_index_line] == plain.splitlines()
    assert_every_checksum_correct(db_0011, 300)
    assert our_objects(db_0011)[0] == []


# --- Live writes --------------------------------------------------------------------------------------------


class OldCode(threading.Thread):
    """Pre-0012 code on its own connection, every 10 ms: issue an access and a refresh token (no checksum),
    read it back by ``token``, change the scope of the one before, revoke (delete) every fifth."""

    def __init__(self, owner):
        super().__init__(daemon=True)
        self.owner = owner
        self.phase = "idle"
        self.calls = {}
        self.failures = []
        self.scopes = {}  # token -> scope it must have; None when deleted
        self.stopping = threading.Event()

    def run(self):
        connection = connections["default"]
        try:
            number = 0
            while not self.stopping.is_set():
                number += 1
                self.call(connection, number)
                time.sleep(0.01)
        finally:
            connection.close()

    def call(self, connection, number):
        phase, token = self.phase, f"live-old-{number}"
        try:
            with connection.cursor() as cursor:
                old_code_insert(cursor, token)
                cursor.execute(f"SELECT id FROM {TABLE} WHERE token = %s", [token])
                (access_token_id,) = cursor.fetchone()
                insert_refresh_token(cursor, f"refresh-{token}", access_token_id, self.owner)
                self.scopes[token] = "read"
                before = f"live-old-{number - 1}"
                if self.scopes.get(before):
                    cursor.execute(f"UPDATE {TABLE} SET scope = %s WHERE token = %s", [f"s{number}", before])
                    self.scopes[before] = f"s{number}"
                if number % 5 == 0:
                    cursor.execute(
                        f"DELETE FROM {REFRESH_TABLE} WHERE access_token_id = %s", [access_token_id]
                    )
                    cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [access_token_id])
                    self.scopes[token] = None
        except DatabaseError as error:
            self.failures.append((phase, f"{type(error).__name__}: {error}"))
        self.calls[phase] = self.calls.get(phase, 0) + 1

    def enter(self, phase):
        """Label the calls from now on; return once two of them were made in ``phase``."""
        self.phase = phase
        deadline = time.monotonic() + 30
        while self.calls.get(phase, 0) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)


def test_old_code_keeps_writing_through_create_copy_swap_and_drop(db_0011, batch_of, settings):
    insert_tokens(db_0011, 3000)
    batch_of(100)
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "TOKEN_CHECKSUM_BATCH_INTERVAL": 0.01}
    old = OldCode(owners())
    old.start()
    try:
        for step in ("create", "copy", "swap", "drop_old"):
            old.enter(step)
            run(step)
        old.enter("after")
    finally:
        old.stopping.set()
        old.join(timeout=30)

    assert old.failures == []
    assert all(old.calls.get(step, 0) >= 2 for step in ("create", "copy", "swap", "drop_old", "after"))
    assert old.calls["copy"] >= 10, old.calls  # writes landed between the pages, not only around them
    with connections[db_0011].cursor() as cursor:
        cursor.execute(f"SELECT token, scope FROM {TABLE} WHERE token LIKE 'live-old-%%'")
        found = dict(cursor.fetchall())
    assert found == {token: scope for token, scope in old.scopes.items() if scope is not None}
    assert_every_checksum_correct(db_0011, 3000 + len(found))


def test_refresh_tokens_keep_their_access_tokens_and_new_ones_can_be_issued(db_0011):
    insert_tokens(db_0011, 50)
    owner = owners()
    with connections[db_0011].cursor() as cursor:
        cursor.execute(f"SELECT id, token FROM {TABLE} ORDER BY id LIMIT 20")
        issued = cursor.fetchall()
        for access_token_id, _ in issued:
            insert_refresh_token(cursor, f"refresh-{access_token_id}", access_token_id, owner)
    name, _ = refresh_token_reference(db_0011)[0]

    for step in ("create", "copy", "swap"):
        run(step)

    assert refresh_token_reference(db_0011) == ((name, TABLE),)
    with connections[db_0011].cursor() as cursor:
        cursor.execute(
            f"SELECT a.token, r.token FROM {REFRESH_TABLE} r JOIN {TABLE} a ON a.id = r.access_token_id"
        )
        assert sorted(cursor.fetchall()) == sorted((token, f"refresh-{pk}") for pk, token in issued)
        # Right after the swap, before the old table is dropped: a new pair, as old code issues it.
        old_code_insert(cursor, "issued-after-the-swap")
        cursor.execute(f"SELECT id, token_checksum FROM {TABLE} WHERE token = 'issued-after-the-swap'")
        access_token_id, checksum = cursor.fetchone()
        insert_refresh_token(cursor, "refresh-issued-after-the-swap", access_token_id, owner)
    assert checksum == sha256_hex("issued-after-the-swap")
    refresh = get_refresh_token_model().objects.get(token="refresh-issued-after-the-swap")
    assert refresh.access_token_id == access_token_id

    run("drop_old")
    assert our_objects(db_0011)[0] == []


# --- Interruptions ------------------------------------------------------------------------------------------


class _Killed(Exception):
    pass


def test_a_killed_copy_resumes_and_pages_already_copied_are_skipped(db_0011, batch_of, monkeypatch):
    insert_tokens(db_0011, 2000)
    batch_of(100)
    run("create")
    original = copier._CopyWalk.process_window
    pages = []

    def killed_after_five_pages(self, lower, upper):
        if len(pages) == 5:
            raise _Killed
        pages.append(lower)
        return original(self, lower, upper)

    monkeypatch.setattr(copier._CopyWalk, "process_window", killed_after_five_pages)
    with pytest.raises(_Killed):
        run("copy")
    assert _scalar(db_0011, f"SELECT COUNT(*) FROM {SHADOW}") == 500
    assert "rows copied (estimated)" in " ".join(steps().status())
    with pytest.raises(online.Refused, match="run the copy first"):
        run("swap")

    monkeypatch.setattr(copier._CopyWalk, "process_window", original)
    writes = []
    execute = copier._CopyWalk._execute

    def counted(self, sql, params=()):
        writes.extend([sql] if sql.startswith("INSERT") else [])
        return execute(self, sql, params)

    monkeypatch.setattr(copier._CopyWalk, "_execute", counted)
    run("copy")
    assert len(writes) == 15  # the five pages copied before cost two counts each, no write

    run("swap")
    run("drop_old")
    assert_every_checksum_correct(db_0011, 2000)


def test_create_and_swap_resume_after_a_kill_after_any_statement(db_0011, monkeypatch):
    insert_tokens(db_0011, 200)
    owner = owners()
    with connections[db_0011].cursor() as cursor:
        cursor.execute(f"SELECT MIN(id) FROM {TABLE}")
        insert_refresh_token(cursor, "refresh-1", cursor.fetchone()[0], owner)
    original, done = ShadowCopy._ddl, set()

    def killed_after_each_new_statement(self, sql, checks=True):
        original(self, sql, checks)
        if sql not in done:
            done.add(sql)
            raise _Killed(sql)

    monkeypatch.setattr(ShadowCopy, "_ddl", killed_after_each_new_statement)
    kills = 0
    for step in ("create", "copy", "swap", "drop_old"):
        while True:
            try:
                run(step)
                break
            except _Killed:
                kills += 1
            with connections[db_0011].cursor() as cursor:  # the site writes between the runs
                old_code_insert(cursor, f"between-{kills}")
    assert kills >= 10
    assert steps().status() == ["table copy: swapped, done"]
    assert refresh_token_reference(db_0011)[0][1] == TABLE
    assert_every_checksum_correct(db_0011, 200 + kills)


# --- Refusals -----------------------------------------------------------------------------------------------


def test_a_user_without_the_privileges_is_refused_before_any_change(db_0011):
    connection = connections[db_0011]
    database = connection.settings_dict["NAME"]
    user = f"{database[:24]}_nocopy"
    before = our_objects(db_0011)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        cursor.execute(f"CREATE USER '{user}'@'%'")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX ON `{database}`.* TO '{user}'@'%'"
        )
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(USER=user, PASSWORD="")
    try:
        with pytest.raises(online.Refused, match="needs DROP, ALTER, TRIGGER .*Nothing was changed"):
            run("create")
    finally:
        connection.close()
        connection.settings_dict.update(saved)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")
    assert our_objects(db_0011) == before


def test_binary_logging_without_super_is_refused_before_any_change(db_0011, monkeypatch):
    before = our_objects(db_0011)
    scalar = online.MySQLOnline._scalar

    def binary_logging(self, sql, params=()):
        return 1 if sql == "SELECT @@log_bin" else scalar(self, sql, params)

    monkeypatch.setattr(online.MySQLOnline, "_scalar", binary_logging)
    monkeypatch.setattr(online.MySQLOnline, "_has_super", lambda self: False)
    with pytest.raises(online.Refused, match="log_bin_trust_function_creators is 0"):
        run("create")
    assert our_objects(db_0011) == before


def test_too_little_disk_is_refused_with_what_it_needs(db_0011, monkeypatch):
    insert_tokens(db_0011, 500)
    before = our_objects(db_0011)
    here = steps().free_bytes()
    hostname = _scalar(db_0011, "SELECT @@hostname")
    assert (here is not None) == (hostname == copier.socket.gethostname())  # this test's server: same host
    monkeypatch.setattr(ShadowCopy, "free_bytes", lambda self: 1024)
    with pytest.raises(online.Refused, match=r"needs about [\d,]+ MiB free .*which has 0 MiB"):
        run("create")
    assert our_objects(db_0011) == before

    monkeypatch.setattr(ShadowCopy, "free_bytes", lambda self: None)  # a server on another host
    said = run("create")
    assert "elsewhere: unchecked" in said[0]


def test_swap_before_the_copy_is_refused_and_changes_nothing(db_0011):
    insert_tokens(db_0011, 100)
    run("create")
    before = our_objects(db_0011)
    with pytest.raises(online.Refused, match="run the copy first"):
        run("swap")
    assert our_objects(db_0011) == before
    with pytest.raises(online.Refused, match="run the swap first"):
        run("drop_old")


def test_a_database_past_0011_is_refused(db_0011):
    migrate(db_0011, AFTER)
    with pytest.raises(online.Refused, match="runs with the database at 0011"):
        run("create")
    assert our_objects(db_0011)[0] == []


# --- Wired into tokenchecksum -------------------------------------------------------------------------------


def tokenchecksum(step, **options):
    out = io.StringIO()
    call_command("tokenchecksum", step, stdout=out, **options)
    return out.getvalue()


def plainly_migrated():
    """``SHOW CREATE TABLE`` of the access and refresh token tables after a plain ``migrate`` to 0012."""
    migrate("other", BEFORE)
    try:
        migrate("other", AFTER)
        return show_create("other", TABLE), show_create("other", REFRESH_TABLE)
    finally:
        migrate("other", None)


def statements_on_the_table(alias, run):
    """The DDL statements (ALTER, CREATE, DROP, RENAME) naming the access token table sent during ``run``."""
    sent = []

    ddl = re.compile(r"\s*(SET STATEMENT .*? FOR\s+)?(ALTER|CREATE|DROP|RENAME)\b", re.IGNORECASE)

    def record(execute, sql, params, many, context):
        if ddl.match(sql) and TABLE in sql:
            sent.append(sql)
        return execute(sql, params, many, context)

    with connections[alias].execute_wrapper(record):
        run()
    return sent


def w006(alias):
    return [m for m in checks.run_checks(databases=[alias]) if m.id == "oauth2_provider.W006"]


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_prepare_copies_migrate_only_records_0012_and_finish_leaves_upstreams_schema(db_0011):
    insert_tokens(db_0011, 300)
    said = tokenchecksum("prepare")  # MariaDB's default method
    assert f"creating {SHADOW}" in said and "only records 0012" in said
    assert our_objects(db_0011)[0] == []  # the old table is dropped once swapped
    status = tokenchecksum("status")
    assert "table copy: swapped, done" in status
    assert "next step: 'manage.py migrate' (prepared: brief locks only)" in status

    ddl = statements_on_the_table(db_0011, lambda: migrate(db_0011, AFTER))

    assert ddl == []  # no ALTER TABLE (nor index, nor trigger) on the access token table
    [warning] = w006(db_0011)
    assert "dotlts_tc_fill" in warning.msg and "dotlts_tc_token" in warning.msg
    assert "next step: 'manage.py tokenchecksum finish'" in tokenchecksum("status")
    tokenchecksum("finish")
    assert w006(db_0011) == [] and "next step: none" in tokenchecksum("status")
    assert (show_create(db_0011, TABLE), show_create(db_0011, REFRESH_TABLE)) == plainly_migrated()
    assert our_objects(db_0011)[:2] == ([], [])
    assert_every_checksum_correct(db_0011, 300)


def test_old_and_new_code_keep_working_through_prepare_migrate_and_finish(db_0011, batch_of, settings):
    insert_tokens(db_0011, 2000)
    batch_of(200)
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "TOKEN_CHECKSUM_BATCH_INTERVAL": 0.01}
    old = OldCode(owners())
    old.start()
    try:
        old.enter("prepare")
        tokenchecksum("prepare", method="copy")
        old.enter("migrate")
        migrate(db_0011, AFTER)
        old.enter("rollout")
        # New code: the ORM of 0012's model, reading by checksum.
        model = get_access_token_model()
        token = model.objects.create(token="issued-by-new-code", expires=timezone.now(), scope="read")
        assert model.objects.get(token_checksum=sha256_hex("issued-by-new-code")).pk == token.pk
    finally:
        old.stopping.set()
        old.join(timeout=30)
    tokenchecksum("finish")

    assert old.failures == []
    assert all(old.calls.get(step, 0) >= 2 for step in ("prepare", "migrate", "rollout")), old.calls
    with connections[db_0011].cursor() as cursor:
        cursor.execute(f"SELECT token, scope FROM {TABLE} WHERE token LIKE 'live-old-%%'")
        found = dict(cursor.fetchall())
    assert found == {token: scope for token, scope in old.scopes.items() if scope is not None}
    assert_every_checksum_correct(db_0011, 2001 + len(found))


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_prepare_killed_at_any_point_is_completed_by_running_it_again(db_0011, batch_of, monkeypatch):
    insert_tokens(db_0011, 500)
    batch_of(100)
    owner = owners()
    with connections[db_0011].cursor() as cursor:
        cursor.execute(f"SELECT MIN(id) FROM {TABLE}")
        insert_refresh_token(cursor, "refresh-1", cursor.fetchone()[0], owner)
    ddl, done = ShadowCopy._ddl, set()

    def killed_after_each_new_statement(self, sql, checks=True):
        ddl(self, sql, checks)
        if sql not in done:
            done.add(sql)
            raise _Killed(sql)

    window, pages = copier._CopyWalk.process_window, []

    def killed_after_every_second_page_copied(self, lower, upper):
        rows = window(self, lower, upper)
        pages.extend([lower] if self.wrote else [])
        if self.wrote and len(pages) % 2 == 0:
            raise _Killed("page")
        return rows

    monkeypatch.setattr(ShadowCopy, "_ddl", killed_after_each_new_statement)
    monkeypatch.setattr(copier._CopyWalk, "process_window", killed_after_every_second_page_copied)
    statuses, kills = [], 0
    while True:
        try:
            tokenchecksum("prepare")
            break
        except _Killed:
            kills += 1
        statuses.append(tokenchecksum("status"))
        with connections[db_0011].cursor() as cursor:  # the site writes between the runs
            old_code_insert(cursor, f"between-{kills}")
        assert kills < 100

    assert kills >= 12
    assert any("rows copied (estimated)" in status for status in statuses)
    next_steps = {status.rsplit("next step: ", 1)[1].split(":")[0].strip() for status in statuses}
    # Killed right after dropping a copy left without triggers: nothing there; after the last drop: done.
    assert next_steps == {
        "'manage.py tokenchecksum prepare' again",
        "'manage.py tokenchecksum prepare' (or a plain 'manage.py migrate' if the site can stop)",
        "'manage.py migrate' (prepared",
    }
    migrate(db_0011, AFTER)
    tokenchecksum("finish")
    assert (show_create(db_0011, TABLE), show_create(db_0011, REFRESH_TABLE)) == plainly_migrated()
    assert refresh_token_reference(db_0011)[0][1] == TABLE
    assert_every_checksum_correct(db_0011, 500 + kills)


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_finish_drops_the_old_table_a_killed_prepare_left(db_0011, monkeypatch):
    insert_tokens(db_0011, 100)

    def killed(self, say):
        raise _Killed

    with monkeypatch.context() as patch:
        patch.setattr(ShadowCopy, "drop_old", killed)
        with pytest.raises(_Killed):
            tokenchecksum("prepare")
    assert our_objects(db_0011)[0] == [OLD]
    assert "next step: 'manage.py tokenchecksum prepare' again" in tokenchecksum("status")
    migrate(db_0011, AFTER)  # without running prepare again

    [warning] = w006(db_0011)
    assert OLD in warning.msg
    said = tokenchecksum("finish")
    assert f"dropping {OLD}" in said
    assert w006(db_0011) == []
    assert (show_create(db_0011, TABLE), show_create(db_0011, REFRESH_TABLE)) == plainly_migrated()


def test_finish_drops_a_copy_that_a_plain_migrate_overtook(db_0011):
    insert_tokens(db_0011, 100)
    run("create")
    migrate(db_0011, AFTER)
    # New code writes meanwhile: the copy triggers still repeat it in the copy.
    get_access_token_model().objects.create(token="new-code", expires=timezone.now(), scope="read")

    assert SHADOW in w006(db_0011)[0].msg
    tokenchecksum("finish")
    assert our_objects(db_0011)[:2] == ([], [])
    assert_every_checksum_correct(db_0011, 101)


def test_on_mysql_prepare_stays_in_place_and_the_copy_is_refused(db_0011, monkeypatch):
    connection = connections[db_0011]
    monkeypatch.setattr(connection, "mysql_is_mariadb", False)
    assert online.online_for(db_0011).default_method() == "in-place"
    before = our_objects(db_0011)
    with pytest.raises(CommandError, match="runs on MariaDB .*'--method in-place'.*Nothing was changed"):
        tokenchecksum("prepare", method="copy")
    assert our_objects(db_0011) == before
    assert online.online_for(db_0011).column_state() is None


def test_prepare_in_place_refuses_while_a_copy_is_under_way(db_0011):
    insert_tokens(db_0011, 20)
    run("create")
    with pytest.raises(CommandError, match="table copy of prepare is under way .*Nothing was changed"):
        tokenchecksum("prepare", method="in-place")
    assert online.online_for(db_0011).column_state() is None
    tokenchecksum("prepare", method="copy")
    assert our_objects(db_0011)[0] == []


def test_method_is_an_option_of_prepare_alone(db_0011):
    with pytest.raises(CommandError, match="--method is an option of prepare"):
        tokenchecksum("finish", method="copy")
