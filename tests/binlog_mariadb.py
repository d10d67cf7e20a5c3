"""A binary-logged MariaDB and a user without SUPER: every step of the online path, and unapplying 0012,
either completes or refuses before its first change, with what to do; its replica follows every step,
and the pages of ``prepare`` wait for it when it lags.

Run by ``tox -e mysql`` (and ``newest-mysql``) through ``tests/mariadb_binlog.py`` with
``--ds=tests.settings_binlog``, on the server's own database (pytest-django's test database would need
privileges this user does not have).
"""

import hashlib
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from oauth2_provider import _online_checksum as online
from tests.test_migration_0012 import AFTER, APP, BEFORE


TOKENS = 20


@pytest.fixture(autouse=True)
def at_0011(django_db_blocker):
    """The database at 0011 with a few tokens, log_bin_trust_function_creators back at 0 afterwards."""
    with django_db_blocker.unblock():
        trust_function_creators(True)  # back to 0011 from wherever the test before left the table
        call_command("migrate", verbosity=0)
        call_command("migrate", APP, BEFORE[1], verbosity=0)
        trust_function_creators(False)
        with connections["default"].cursor() as cursor:
            cursor.execute("DELETE FROM oauth2_provider_accesstoken")
            for number in range(TOKENS):
                cursor.execute(
                    "INSERT INTO oauth2_provider_accesstoken (token, expires, scope, created, updated) "
                    "VALUES (%s, NOW(), 'read', NOW(), NOW())",
                    [f"binlog-token-{number}"],
                )
        yield
        trust_function_creators(False)


def trust_function_creators(trusted):
    with connections["admin"].cursor() as cursor:
        cursor.execute(f"SET GLOBAL log_bin_trust_function_creators = {int(trusted)}")


def steps():
    return online.online_for("default")


@pytest.mark.parametrize("method", ["in-place", "copy"])
def test_prepare_refuses_before_its_first_change(method):
    with pytest.raises(CommandError, match="log_bin_trust_function_creators is 0") as refused:
        call_command("tokenchecksum", "prepare", method=method)

    assert "Nothing was changed" in str(refused.value)
    assert steps().column_state() is None
    assert steps().copy_left() == []


@pytest.mark.parametrize("method", ["in-place", "copy"])
def test_finish_refuses_before_dropping_anything_once_the_privilege_is_gone(method):
    trust_function_creators(True)
    call_command("tokenchecksum", "prepare", method=method, stdout=None)
    call_command("migrate", APP, AFTER[1], verbosity=0)
    trust_function_creators(False)

    with pytest.raises(CommandError, match="finish drops triggers"):
        call_command("tokenchecksum", "finish")

    assert steps().helpers_left() == [online.BaseOnline.trigger, online.BaseOnline.token_index]
    trust_function_creators(True)
    call_command("tokenchecksum", "finish", stdout=None)
    assert steps().helpers_left() == []


@pytest.mark.parametrize("method", ["in-place", "copy"])
def test_unapplying_0012_refuses_before_its_first_change_once_the_privilege_is_gone(method):
    trust_function_creators(True)
    call_command("tokenchecksum", "prepare", method=method, stdout=None)
    call_command("migrate", APP, AFTER[1], verbosity=0)
    trust_function_creators(False)

    with pytest.raises(online.Refused, match="unapplying 0012_add_token_checksum drops triggers"):
        call_command("migrate", APP, BEFORE[1], verbosity=0)

    state = steps()
    assert state.migration_state() == "0012"
    assert state.column_state() == "NOT NULL"
    assert state.index_state(state.unique_index) == "valid"
    trust_function_creators(True)
    call_command("migrate", APP, BEFORE[1], verbosity=0)
    assert steps().column_state() is None


def test_a_user_with_super_may_change_triggers_under_binary_logging():
    # The check reads the grants: it must not refuse the account that does have the privilege.
    assert online.online_for("admin").trigger_privilege_problem() is None
    assert "no SUPER" in steps().trigger_privilege_problem()


def replica_rows(sql, params=()):
    with connections["replica"].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def wait_for_the_replica():
    """Until the replica has applied everything the primary has written (its GTID position)."""
    with connections["admin"].cursor() as cursor:
        cursor.execute("SELECT @@GLOBAL.gtid_binlog_pos")
        (position,) = cursor.fetchone()
    deadline = time.monotonic() + 60
    while replica_rows("SELECT @@GLOBAL.gtid_slave_pos") != ((position,),):
        assert time.monotonic() < deadline, "the replica did not catch up within 60 s"
        time.sleep(0.2)


@pytest.mark.parametrize("method", ["in-place", "copy"])
def test_the_replica_follows_the_online_path_and_has_every_checksum(method):
    trust_function_creators(True)
    call_command("tokenchecksum", "prepare", method=method, stdout=None)
    with connections["default"].cursor() as cursor:  # old code writes meanwhile: the trigger fills it
        cursor.execute(
            "INSERT INTO oauth2_provider_accesstoken (token, expires, scope, created, updated) "
            "VALUES ('written-while-prepared', NOW(), 'read', NOW(), NOW())"
        )
    call_command("migrate", APP, AFTER[1], verbosity=0)
    call_command("tokenchecksum", "finish", stdout=None)

    wait_for_the_replica()
    rows = replica_rows("SELECT token, token_checksum FROM oauth2_provider_accesstoken")
    assert len(rows) == TOKENS + 1
    assert all(checksum == hashlib.sha256(token.encode()).hexdigest() for token, checksum in rows)
    ((triggers,),) = replica_rows(
        "SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE()"
    )
    assert triggers == 0  # finish's drops were replicated too
    with connections["replica"].cursor() as cursor:
        cursor.execute("SHOW REPLICA STATUS")
        status = dict(zip([column[0] for column in cursor.description], cursor.fetchone(), strict=True))
    assert (status["Last_SQL_Errno"], status["Slave_SQL_Running"]) == (0, "Yes")
    ((tables,),) = replica_rows(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
        "AND table_name LIKE 'dotlts%%'"
    )
    assert tables == 0  # the copy's tables too


PAGE = 5


def filled_on_the_replica():
    """Rows with a checksum on the replica; 0 while it has not even added the column."""
    ((columns,),) = replica_rows(
        "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() "
        "AND table_name = 'oauth2_provider_accesstoken' AND column_name = 'token_checksum'"
    )
    if not columns:
        return 0
    ((filled,),) = replica_rows(
        "SELECT COUNT(*) FROM oauth2_provider_accesstoken WHERE token_checksum IS NOT NULL"
    )
    return filled


@pytest.mark.parametrize(
    "replica, problem",
    [
        ("replica_unwatched", "needs the REPLICA MONITOR privilege"),
        ("admin", "'admin' is not a replica"),
    ],
)
def test_a_replica_that_cannot_tell_its_lag_is_refused_before_the_first_change(settings, replica, problem):
    settings.OAUTH2_PROVIDER = {"REPLICA_LAG_DATABASES": [replica]}
    trust_function_creators(True)

    for method in ("in-place", "copy"):
        with pytest.raises(CommandError, match=problem) as refused:
            call_command("tokenchecksum", "prepare", method=method, stdout=None)
        assert "Nothing was changed" in str(refused.value)
        assert steps().column_state() is None
        assert steps().copy_left() == []

    # A plain migrate commits its pages one by one here: refused before its first change too.
    with pytest.raises(ImproperlyConfigured, match=problem):
        call_command("migrate", APP, AFTER[1], verbosity=0)
    assert steps().column_state() is None
    assert steps().migration_state() == "0011"


def copied_on_the_replica():
    """Rows of the table copy on the replica; 0 while it has not even created it."""
    ((tables,),) = replica_rows(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
        "AND table_name = 'dotlts_tc_new'"
    )
    if not tables:
        return 0
    ((copied,),) = replica_rows("SELECT COUNT(*) FROM dotlts_tc_new")
    return copied


# Each method of prepare: how a statement of one of its pages starts, and how much the replica has of them.
PAGES_OF = {
    "in-place": (lambda sql: sql.startswith("UPDATE") and "SHA2(" in sql, filled_on_the_replica),
    "copy": (lambda sql: sql.startswith("INSERT INTO `dotlts_tc_new`"), copied_on_the_replica),
}


@pytest.mark.parametrize("method", ["in-place", "copy"])
@pytest.mark.parametrize("paced", [True, False], ids=["paced", "unpaced"])
def test_each_page_of_prepare_waits_until_the_replica_has_the_one_before(settings, paced, method):
    # The replica applies each page 2 s late; pages come every 1.1 s, so an unpaced page overtakes it.
    settings.OAUTH2_PROVIDER = {
        "TOKEN_CHECKSUM_BATCH_SIZE": PAGE,
        "TOKEN_CHECKSUM_BATCH_INTERVAL": 1.1,
        "REPLICA_LAG_DATABASES": ["replica"] if paced else [],
        "REPLICA_LAG_MAX_SECONDS": 0.5,
    }
    trust_function_creators(True)
    wait_for_the_replica()
    is_page, on_the_replica = PAGES_OF[method]
    seen = []

    def before_each_page(execute, sql, params, many, context):
        if is_page(sql):
            seen.append(on_the_replica())
        return execute(sql, params, many, context)

    with connections["default"].execute_wrapper(before_each_page):
        call_command("tokenchecksum", "prepare", method=method, stdout=None)

    pages = range(TOKENS // PAGE)
    if paced:
        assert seen[: len(pages)] == [PAGE * page for page in pages]
    else:  # how far behind depends on the machine's load: behind at some page, that is all
        assert any(found < PAGE * page for page, found in zip(pages, seen, strict=False)), seen
    assert steps().copy_left() == []
