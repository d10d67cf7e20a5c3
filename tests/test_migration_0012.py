"""Migration 0012 on a populated table: correct checksums, bounded memory, resumable, multi-database.

Each test brings the database back to 0011, fills the access token table with bulk inserts, applies
0012 through Django's migration executor and checks what a site relies on.
"""

import hashlib
import tracemalloc
from datetime import timedelta

import pytest
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from oauth2_provider import _batching, backfill


APP = "oauth2_provider"
BEFORE = (APP, "0011_refreshtoken_token_family")
AFTER = (APP, "0012_add_token_checksum")
TABLE = "oauth2_provider_accesstoken"


def sha256_hex(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_for(i):
    """Ordinary, non-ASCII and maximum-length (255 characters) tokens, all distinct."""
    kind = i % 10
    if kind == 0:
        return f"{i:08d}-tøkén-ünïcødé-日本語-🔑"
    if kind == 1:
        return f"{i:08d}".ljust(255, "z")
    return f"tok-{i:08d}-abcdefghijklmnopqrstuvwxyz"


def migrate(alias, target):
    connection = connections[alias]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target] if target is not None else executor.loader.graph.leaf_nodes())


def columns(alias, table=TABLE):
    connection = connections[alias]
    with connection.cursor() as cursor:
        return [c.name for c in connection.introspection.get_table_description(cursor, table)]


def is_applied(alias, migration):
    return migration in MigrationExecutor(connections[alias]).loader.applied_migrations


def insert_tokens(alias, count):
    """Insert ``count`` tokens at the 0011 schema with a few multi-row INSERT statements."""
    connection = connections[alias]
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, "
            "is_staff, is_active, date_joined) VALUES ('!', %s, 'owner', '', '', '', %s, %s, %s)",
            [False, False, True, now],
        )
    user_id = _scalar(alias, "SELECT MAX(id) FROM auth_user")
    chunk = 500
    for start in range(0, count, chunk):
        rows = [
            (token_for(i), now + timedelta(hours=1), "read write", now, now, user_id)
            for i in range(start, min(start + chunk, count))
        ]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (token, expires, scope, created, updated, user_id) VALUES {values}",
                [value for row in rows for value in row],
            )


def _scalar(alias, sql, params=()):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def stored_checksums(alias, table=TABLE):
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT token, token_checksum FROM {table}")
        return list(cursor.fetchall())


def assert_every_checksum_correct(alias, expected_rows):
    rows = stored_checksums(alias)
    assert len(rows) == expected_rows
    wrong = [(token, checksum) for token, checksum in rows if checksum != sha256_hex(token)]
    assert wrong == []


@pytest.fixture
def at_0011(transactional_db):
    """The default database at migration 0011; put back on the latest migrations afterwards."""
    migrate("default", BEFORE)
    yield "default"
    migrate("default", None)


@pytest.fixture
def batch_of(settings):
    def set_batch_size(size):
        settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "TOKEN_CHECKSUM_BATCH_SIZE": size}

    return set_batch_size


@pytest.fixture(params=["sql", "python"])
def strategy(request, monkeypatch):
    """Run each test with the database hashing ("sql") and with the portable Python fallback."""
    if request.param == "python":
        monkeypatch.setattr(backfill, "BACKFILL_BY_VENDOR", {})
    return request.param


def test_every_row_gets_the_checksum_the_model_field_computes(at_0011, batch_of, strategy):
    insert_tokens(at_0011, 2345)
    batch_of(500)

    migrate(at_0011, AFTER)

    assert_every_checksum_correct(at_0011, 2345)


def test_last_partial_page_and_exact_multiple_are_both_filled(at_0011, batch_of):
    insert_tokens(at_0011, 1000)
    batch_of(250)  # pages of exactly 250: the walk must stop without an empty extra page going wrong

    migrate(at_0011, AFTER)

    assert_every_checksum_correct(at_0011, 1000)


def test_empty_table(at_0011):
    migrate(at_0011, AFTER)

    assert "token_checksum" in columns(at_0011)
    assert stored_checksums(at_0011) == []


def test_checksum_column_is_unique_and_not_null_afterwards(at_0011):
    insert_tokens(at_0011, 10)
    migrate(at_0011, AFTER)

    connection = connections[at_0011]
    with connection.cursor() as cursor:
        description = {c.name: c for c in connection.introspection.get_table_description(cursor, TABLE)}
        constraints = connection.introspection.get_constraints(cursor, TABLE).values()
    assert not description["token_checksum"].null_ok
    assert any(c["unique"] and c["columns"] == ["token_checksum"] for c in constraints)


class _Measured:
    """Wraps ``BaseBackfill`` to record traced peak memory and the most rows any query returned."""

    def __init__(self, monkeypatch):
        self.peak = None
        self.most_rows_fetched = 0
        original_run, original_execute = backfill.BaseBackfill.run, backfill.BaseBackfill._execute
        measured = self

        def run(self):
            tracemalloc.start()
            try:
                return original_run(self)
            finally:
                measured.peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()

        def execute(self, sql, params=()):
            rowcount, rows = original_execute(self, sql, params)
            measured.most_rows_fetched = max(measured.most_rows_fetched, len(rows))
            return rowcount, rows

        monkeypatch.setattr(backfill.BaseBackfill, "run", run)
        monkeypatch.setattr(backfill.BaseBackfill, "_execute", execute)


def _measure_backfill(monkeypatch, alias, rows, batch_size, set_batch_size):
    migrate(alias, BEFORE)
    with connections[alias].cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute("DELETE FROM auth_user")
    insert_tokens(alias, rows)
    set_batch_size(batch_size)
    measured = _Measured(monkeypatch)
    migrate(alias, AFTER)
    assert_every_checksum_correct(alias, rows)
    return measured


def test_memory_does_not_grow_with_the_table(at_0011, batch_of, strategy, monkeypatch):
    batch_size = 200
    small = _measure_backfill(monkeypatch, at_0011, 1_000, batch_size, batch_of)
    large = _measure_backfill(monkeypatch, at_0011, 10_000, batch_size, batch_of)

    # Ten times the rows, the same bounded working set: the page, never the table.
    assert large.peak < small.peak * 1.5 + 64 * 1024, (small.peak, large.peak)
    limit = 1 if strategy == "sql" else batch_size
    assert small.most_rows_fetched <= limit
    assert large.most_rows_fetched <= limit


def test_progress_is_logged_with_counts_and_a_summary(at_0011, batch_of, monkeypatch, caplog):
    insert_tokens(at_0011, 1200)
    batch_of(400)
    monkeypatch.setattr(_batching, "PROGRESS_INTERVAL_SECONDS", 0)
    caplog.set_level("INFO", logger="oauth2_provider.migrations")

    migrate(at_0011, AFTER)

    messages = [r.getMessage() for r in caplog.records if r.name == "oauth2_provider.migrations"]
    progress = [m for m in messages if "rows (" in m]
    assert [m.split(": ", 1)[1].split(" rows")[0] for m in progress] == ["400/1200", "800/1200", "1200/1200"]
    assert all("rows/s" in m and "ETA" in m for m in progress)
    assert messages[-1].startswith(f"{TABLE}.token_checksum backfill: done, 1200 rows in ")


@pytest.mark.parametrize("size", [0, -5, "1000", 2.5, True])
def test_invalid_batch_size_is_refused_clearly(at_0011, batch_of, size):
    insert_tokens(at_0011, 3)
    batch_of(size)

    with pytest.raises(Exception, match="TOKEN_CHECKSUM_BATCH_SIZE'] must be a positive integer"):
        migrate(at_0011, AFTER)


class _Crash(Exception):
    pass


def _crash_after_pages(monkeypatch, pages):
    original = backfill.BaseBackfill.window_end
    calls = {"n": 0}

    def window_end(self, lower):
        calls["n"] += 1
        if calls["n"] > pages:
            raise _Crash("simulated interruption of migrate")
        return original(self, lower)

    monkeypatch.setattr(backfill.BaseBackfill, "window_end", window_end)


def test_interrupted_run_then_a_rerun_completes(at_0011, batch_of, monkeypatch):
    insert_tokens(at_0011, 1000)
    batch_of(100)
    with monkeypatch.context() as patch:
        _crash_after_pages(patch, 3)
        with pytest.raises(_Crash):
            migrate(at_0011, AFTER)

    assert not is_applied(at_0011, AFTER)
    if connections[at_0011].features.can_rollback_ddl:
        # PostgreSQL, SQLite: the whole of 0012 was one transaction, nothing of it is left.
        assert "token_checksum" not in columns(at_0011)
    else:
        # MySQL/MariaDB: the column and the pages written before the crash stay.
        filled = _scalar(at_0011, f"SELECT COUNT(*) FROM {TABLE} WHERE token_checksum IS NOT NULL")
        assert filled == 300

    migrate(at_0011, AFTER)

    assert is_applied(at_0011, AFTER)
    assert_every_checksum_correct(at_0011, 1000)


def test_rerun_only_fills_missing_checksums(at_0011, batch_of):
    """A row whose checksum an earlier run wrote is not written again."""
    connection = connections[at_0011]
    if connection.features.can_rollback_ddl:
        pytest.skip("only MySQL/MariaDB keep a half-applied 0012; the resume path is tested there")
    insert_tokens(at_0011, 50)
    first = _scalar(at_0011, f"SELECT MIN(id) FROM {TABLE}")
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} ADD COLUMN token_checksum varchar(64) NULL")
        cursor.execute(f"UPDATE {TABLE} SET token_checksum = 'kept' WHERE id = %s", [first])
    batch_of(7)

    migrate(at_0011, AFTER)

    rows = stored_checksums(at_0011)
    assert sorted(c for _, c in rows if c == "kept") == ["kept"]
    assert all(c == sha256_hex(t) for t, c in rows if c != "kept")


@pytest.mark.parametrize(
    "leftover",
    [
        ["ALTER TABLE {t} ADD COLUMN token_checksum varchar(64) NULL"],
        [
            "ALTER TABLE {t} ADD COLUMN token_checksum varchar(64) NULL",
            "ALTER TABLE {t} DROP INDEX {token_unique}",
        ],
        [
            "ALTER TABLE {t} ADD COLUMN token_checksum varchar(64) NULL",
            "ALTER TABLE {t} DROP INDEX {token_unique}",
            "ALTER TABLE {t} MODIFY token longtext NOT NULL",
        ],
    ],
    ids=["column-added", "token-unique-dropped", "token-altered"],
)
def test_mysql_resumes_from_every_half_applied_schema_step(at_0011, leftover):
    """What an interrupted 0012 leaves behind on MySQL/MariaDB does not stop the next migrate."""
    connection = connections[at_0011]
    if connection.features.can_rollback_ddl:
        pytest.skip("DDL is transactional on this backend: an interrupted 0012 leaves nothing behind")
    insert_tokens(at_0011, 30)
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
        (token_unique,) = [
            name for name, c in constraints.items() if c["unique"] and c["columns"] == ["token"]
        ]
        for statement in leftover:
            cursor.execute(statement.format(t=TABLE, token_unique=connection.ops.quote_name(token_unique)))

    migrate(at_0011, AFTER)

    assert_every_checksum_correct(at_0011, 30)
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE).values()
    assert not any(c["unique"] and c["columns"] == ["token"] for c in constraints)
    assert any(c["unique"] and c["columns"] == ["token_checksum"] for c in constraints)


def test_backwards_to_0011_and_forward_again(at_0011):
    migrate(at_0011, AFTER)
    migrate(at_0011, BEFORE)
    assert "token_checksum" not in columns(at_0011)
    insert_tokens(at_0011, 20)

    migrate(at_0011, AFTER)

    assert_every_checksum_correct(at_0011, 20)


def test_migrating_all_the_way_down_and_up(transactional_db):
    migrate("default", (APP, None))
    assert TABLE not in connections["default"].introspection.table_names()
    migrate("default", None)
    assert "token_checksum" in columns("default")


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_runs_on_the_database_being_migrated(batch_of):
    """``migrate --database other`` fills the tokens of ``other`` (upstream #1678)."""
    migrate("other", BEFORE)
    migrate("default", BEFORE)
    try:
        insert_tokens("other", 120)
        batch_of(50)
        migrate("other", AFTER)
        assert_every_checksum_correct("other", 120)
        assert "token_checksum" not in columns("default")
    finally:
        migrate("other", None)
        migrate("default", None)


@pytest.mark.django_db(transaction=True)
def test_backfill_a_project_model_with_the_public_function(batch_of):
    """What a project with a swapped AccessToken model calls from its own migration."""
    from tests.backfill_app.models import ProjectAccessToken

    ProjectAccessToken.objects.bulk_create(ProjectAccessToken(token=token_for(i)) for i in range(75))
    ProjectAccessToken.objects.filter(pk=ProjectAccessToken.objects.order_by("pk")[0].pk).update(
        token_checksum="set-before"
    )

    written = backfill.backfill_token_checksums(ProjectAccessToken, using="default", batch_size=10)

    assert written == 74
    for row in ProjectAccessToken.objects.exclude(token_checksum="set-before"):
        assert row.token_checksum == sha256_hex(row.token)


@pytest.mark.django_db(transaction=True)
def test_swapped_model_with_checksum_column_is_filled_by_0012(settings):
    from django.apps import apps

    from tests.backfill_app.models import ProjectAccessToken

    ProjectAccessToken.objects.bulk_create(ProjectAccessToken(token=token_for(i)) for i in range(30))
    settings.OAUTH2_PROVIDER = {"ACCESS_TOKEN_MODEL": "backfill_app.ProjectAccessToken"}

    with connections["default"].schema_editor() as schema_editor:
        backfill.backfill_from_migration(apps, schema_editor)

    assert all(row.token_checksum == sha256_hex(row.token) for row in ProjectAccessToken.objects.all())


@pytest.mark.django_db(transaction=True)
def test_swapped_model_without_checksum_column_is_explained(settings, caplog):
    from django.apps import apps

    settings.OAUTH2_PROVIDER = {"ACCESS_TOKEN_MODEL": "backfill_app.ChecksumlessAccessToken"}
    caplog.set_level("WARNING", logger="oauth2_provider.migrations")

    with connections["default"].schema_editor() as schema_editor:
        backfill.backfill_from_migration(apps, schema_editor)

    (record,) = [r for r in caplog.records if r.name == "oauth2_provider.migrations"]
    assert "backfill_app.ChecksumlessAccessToken has no token_checksum column" in record.getMessage()
    assert "backfill_token_checksums(" in record.getMessage()


@pytest.mark.parametrize("size", [0, "10"])
def test_system_check_refuses_a_bad_batch_size_before_migrate_starts(settings, size):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.OAUTH2_PROVIDER = {"TOKEN_CHECKSUM_BATCH_SIZE": size}

    with pytest.raises(SystemCheckError, match=r"oauth2_provider\.E001"):
        call_command("check")


def test_plain_migrate_in_a_terminal_shows_progress(tmp_path):
    """Without any LOGGING configured, ``manage.py migrate`` prints the progress on stderr."""
    import os
    import sqlite3
    import subprocess
    import sys

    env = {**os.environ, "DOT_TEST_DB": "sqlite", "DOT_TEST_DB_NAME": str(tmp_path / "site")}
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"

    def manage(*args):
        return subprocess.run(
            [sys.executable, "-m", "django", *args], env=env, capture_output=True, text=True, check=True
        )

    manage("migrate")
    manage("migrate", "oauth2_provider", "0011")
    with sqlite3.connect(tmp_path / "site.sqlite3") as db:
        db.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,"
            " is_staff, is_active, date_joined) VALUES ('!', 0, 'u', '', '', '', 0, 1, '2026-01-01')"
        )
        db.executemany(
            f"INSERT INTO {TABLE} (token, expires, scope, created, updated, user_id)"
            " VALUES (?, '2030-01-01', '', '2026-01-01', '2026-01-01', 1)",
            [(token_for(i),) for i in range(500)],
        )

    result = manage("migrate", "oauth2_provider", "0012")

    assert f"{TABLE}.token_checksum backfill: done, 500 rows in " in result.stderr
    with sqlite3.connect(tmp_path / "site.sqlite3") as db:
        rows = db.execute(f"SELECT token, token_checksum FROM {TABLE}").fetchall()
    assert len(rows) == 500 and all(c == sha256_hex(t) for t, c in rows)


@pytest.mark.parametrize("size", [0, -1, 2.5, "100"])
def test_public_backfill_refuses_a_bad_explicit_batch_size(size):
    from tests.backfill_app.models import ProjectAccessToken

    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        backfill.backfill_token_checksums(ProjectAccessToken, batch_size=size)
