"""A binary-logged MariaDB and a user without SUPER: every step of the online path, and unapplying 0012,
either completes or refuses before its first change, with what to do.

Run by ``tox -e mysql`` (and ``newest-mysql``) through ``tests/mariadb_binlog.py`` with
``--ds=tests.settings_binlog``, on the server's own database (pytest-django's test database would need
privileges this user does not have).
"""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from oauth2_provider import _online_checksum as online
from tests.test_migration_0012 import AFTER, APP, BEFORE


@pytest.fixture(autouse=True)
def at_0011(django_db_blocker):
    """The database at 0011 with a few tokens, log_bin_trust_function_creators back at 0 afterwards."""
    with django_db_blocker.unblock():
        call_command("migrate", verbosity=0)
        call_command("migrate", APP, BEFORE[1], verbosity=0)
        with connections["default"].cursor() as cursor:
            cursor.execute("DELETE FROM oauth2_provider_accesstoken")
            for number in range(20):
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


def test_prepare_refuses_before_its_first_change():
    with pytest.raises(CommandError, match="log_bin_trust_function_creators is 0") as refused:
        call_command("tokenchecksum", "prepare")

    assert "Nothing was changed" in str(refused.value)
    assert steps().column_state() is None


def test_finish_refuses_before_dropping_anything_once_the_privilege_is_gone():
    trust_function_creators(True)
    call_command("tokenchecksum", "prepare", stdout=None)
    call_command("migrate", APP, AFTER[1], verbosity=0)
    trust_function_creators(False)

    with pytest.raises(CommandError, match="finish drops triggers"):
        call_command("tokenchecksum", "finish")

    assert steps().helpers_left() == [online.BaseOnline.trigger, online.BaseOnline.token_index]
    trust_function_creators(True)
    call_command("tokenchecksum", "finish", stdout=None)
    assert steps().helpers_left() == []


def test_unapplying_0012_refuses_before_its_first_change_once_the_privilege_is_gone():
    trust_function_creators(True)
    call_command("tokenchecksum", "prepare", stdout=None)
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
