"""A replayed refresh token costs index lookups, never a scan of the token tables (issue 27).

With ``REFRESH_TOKEN_REUSE_PROTECTION`` the replay of a rotated refresh token revokes its whole family.
3.0.1's schema has no index on ``token_family``, so the family is found through the indexed user and
application of the replayed token; a family revoked already costs that one lookup and nothing else. The
plans are asked of the database the suite runs on (``EXPLAIN``), over token tables large enough, and
analysed, for its planner to prefer an index where it has one.
"""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from tests.flow_helpers import FLOW_URLS, assert_oauth_error, issued_tokens, refresh, sent_statements


# ANALYZE commits on MariaDB/MySQL: the rows must be committed, and flushed afterwards.
pytestmark = [pytest.mark.urls(FLOW_URLS), pytest.mark.django_db(transaction=True)]

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()

OTHER_USERS = 2000
TOKENS_PER_USER = 10
TOKEN_TABLES = (AccessToken._meta.db_table, RefreshToken._meta.db_table)


def fill_token_tables(application):
    """Other users' tokens at the same application, as reuse protection keeps them: one live refresh token
    with its access token per user, the revoked refresh tokens it replaced, and an expired access token.
    These are the rows a replay must not read through."""
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"user-{number}") for number in range(OTHER_USERS)
    )
    now = timezone.now()
    access_tokens = AccessToken.objects.bulk_create(
        AccessToken(user=user, application=application, token=f"access-{user.pk}-{state}", expires=expires)
        for user in users
        for state, expires in (("live", now + timedelta(hours=1)), ("expired", now - timedelta(hours=1)))
    )
    live_access_tokens = access_tokens[::2]
    RefreshToken.objects.bulk_create(
        RefreshToken(
            user=user,
            application=application,
            token=f"history-{user.pk}-{number}",
            token_family=family,
            access_token=access_token if number == TOKENS_PER_USER - 1 else None,
            revoked=None if number == TOKENS_PER_USER - 1 else now,
        )
        for user, access_token in zip(users, live_access_tokens, strict=True)
        for family in [uuid.uuid4()]
        for number in range(TOKENS_PER_USER)
    )
    analyze(TOKEN_TABLES)


def analyze(tables):
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("ANALYZE")
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f"ANALYZE {table}")
            elif connection.vendor == "mysql":
                cursor.execute(f"ANALYZE TABLE {table}")
                cursor.fetchall()


def scanned_tables(sql):
    """The token tables that the plan of ``sql`` reads from end to end."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN {sql}")
            plan = " ".join(line for (line,) in cursor.fetchall())
            return {table for table in TOKEN_TABLES if f"Seq Scan on {table}" in plan}
        if connection.vendor == "mysql":
            cursor.execute(f"EXPLAIN {sql}")
            columns = [column[0] for column in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            return {row["table"] for row in rows if row["table"] in TOKEN_TABLES and row["type"] == "ALL"}
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        details = [row[-1] for row in cursor.fetchall()]
        return {table for table in TOKEN_TABLES for detail in details if detail.startswith(f"SCAN {table}")}


def replay(client, application, refresh_token):
    """The statements one replay of a rotated refresh token sends that read or write a token table."""
    with CaptureQueriesContext(connection) as captured:
        assert_oauth_error(refresh(client, application, refresh_token), 400, "invalid_grant")
    return [sql for sql in sent_statements(captured) if any(table in sql for table in TOKEN_TABLES)]


@pytest.fixture
def rotated_away(client, signed_in_client, code_app, without_pkce, provider_settings):
    """A refresh token its client rotated away (a thief's copy, say), in tables of other users' tokens."""
    provider_settings(REFRESH_TOKEN_REUSE_PROTECTION=True)
    fill_token_tables(code_app)
    first = issued_tokens(signed_in_client, code_app)
    current = refresh(client, code_app, first["refresh_token"]).json()
    return first["refresh_token"], current["refresh_token"]


def test_revoking_a_family_on_replay_scans_no_token_table(client, code_app, rotated_away):
    stolen, current = rotated_away

    statements = replay(client, code_app, stolen)

    assert RefreshToken.objects.get(token=current).revoked is not None
    assert {sql: scanned_tables(sql) for sql in statements} == {sql: set() for sql in statements}


def test_replaying_into_a_revoked_family_writes_nothing_and_scans_nothing(client, code_app, rotated_away):
    stolen, _current = rotated_away
    replay(client, code_app, stolen)

    storm = [replay(client, code_app, stolen) for _ in range(3)]

    # Each replay finds the token (by its value) and looks for a live member of its family: nothing to do.
    for statements in storm:
        assert [sql.split()[0].upper() for sql in statements] == ["SELECT"] * len(statements)
        assert {sql: scanned_tables(sql) for sql in statements} == {sql: set() for sql in statements}
    assert (
        RefreshToken.objects.filter(token_family=RefreshToken.objects.get(token=stolen).token_family).count()
        == 2
    )
