"""What the token endpoint sends to the database: no savepoint, no re-read of what it just wrote.

The endpoint runs in one transaction (a request that loses the race for a code leaves no tokens); inside
it, a savepoint per save would only add round trips. The tests read the statements Django sends on the
database of the run (tox's sqlite, postgres and mysql environments), and race two real connections for one
authorization code.
"""

import re
import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.signals import app_authorized
from tests.flow_helpers import (
    CLIENT_SECRET,
    FLOW_URLS,
    basic_auth,
    exchange_code,
    obtain_code,
    password_grant,
    pkce_pair,
    post_token,
    refresh,
    sent_statements,
)


# Transactional tests: inside the transaction of an ordinary test, the endpoint's own one would be a
# savepoint itself.
pytestmark = [pytest.mark.urls(FLOW_URLS), pytest.mark.django_db(transaction=True)]

TABLE = re.compile(r"""\b(?:FROM|INTO|UPDATE)\s+[`"]?(\w+)""", re.IGNORECASE)


def statements(captured):
    """``(verb, table)`` of each statement Django sent (``sent_statements``)."""
    summary = []
    for sql in sent_statements(captured):
        table = TABLE.search(sql)
        summary.append((sql.split()[0].upper(), table.group(1) if table else sql))
    return summary


def savepoints(summary):
    return [statement for statement in summary if "SAVEPOINT" in statement[1].upper()]


@pytest.fixture
def token_requests(signed_in_client, code_app, password_app, service_app, resource_owner):
    """Grant type -> a function making one successful token request of that grant."""

    def code_exchange():
        verifier, challenge = pkce_pair()
        code = obtain_code(signed_in_client, code_app, code_challenge=challenge, code_challenge_method="S256")
        with CaptureQueriesContext(connection) as captured:
            response = exchange_code(signed_in_client, code_app, code, code_verifier=verifier)
        return response, captured

    def client_credentials():
        with CaptureQueriesContext(connection) as captured:
            response = post_token(
                signed_in_client,
                {"grant_type": "client_credentials"},
                basic_auth(service_app.client_id, CLIENT_SECRET),
            )
        return response, captured

    def password():
        with CaptureQueriesContext(connection) as captured:
            response = password_grant(signed_in_client, password_app)
        return response, captured

    def refresh_token():
        first = password_grant(signed_in_client, password_app).json()
        with CaptureQueriesContext(connection) as captured:
            response = refresh(signed_in_client, password_app, first["refresh_token"])
        return response, captured

    return {
        "client_credentials": client_credentials,
        "password": password,
        "authorization_code": code_exchange,
        "refresh_token": refresh_token,
    }


GRANTS = ["client_credentials", "password", "authorization_code", "refresh_token"]


@pytest.mark.parametrize("grant", GRANTS)
def test_a_token_request_sends_no_savepoint(token_requests, grant):
    response, captured = token_requests[grant]()

    assert response.status_code == 200, response.content
    assert savepoints(statements(captured)) == []


@pytest.mark.parametrize("grant", GRANTS)
def test_the_issued_access_token_is_not_read_back(token_requests, grant):
    response, captured = token_requests[grant]()
    summary = statements(captured)

    assert response.status_code == 200, response.content
    inserted = summary.index(("INSERT", get_access_token_model()._meta.db_table))
    assert ("SELECT", get_access_token_model()._meta.db_table) not in summary[inserted:]


def test_a_code_exchange_reads_its_grant_once(token_requests):
    response, captured = token_requests["authorization_code"]()

    assert response.status_code == 200, response.content
    grants = [statement for statement in statements(captured) if statement[1] == "oauth2_provider_grant"]
    assert grants == [("SELECT", "oauth2_provider_grant"), ("DELETE", "oauth2_provider_grant")]


@pytest.fixture
def authorized(db):
    """The tokens ``app_authorized`` is sent with, and the statements each receiver's reads cost."""
    received = []

    def receiver(sender, request, token, **kwargs):
        with CaptureQueriesContext(connection) as captured:
            seen = (token.token, token.application.client_id, token.user and token.user.username)
        received.append((seen, len(captured)))

    app_authorized.connect(receiver)
    yield received
    app_authorized.disconnect(receiver)


def test_app_authorized_gets_the_issued_token_with_its_application_and_user(
    client, password_app, resource_owner, authorized
):
    response = password_grant(client, password_app)

    assert response.status_code == 200, response.content
    assert authorized == [((response.json()["access_token"], password_app.client_id, "alice"), 0)]


def test_app_authorized_gets_the_repeated_token_of_a_grace_period_refresh(
    client, password_app, resource_owner, provider_settings, authorized
):
    """The answer repeats tokens issued by an earlier request: the signal still names the right one."""
    provider_settings(REFRESH_TOKEN_GRACE_PERIOD_SECONDS=120)
    first = password_grant(client, password_app).json()
    rotated = refresh(client, password_app, first["refresh_token"]).json()

    repeated = refresh(client, password_app, first["refresh_token"])

    assert repeated.status_code == 200, repeated.content
    assert repeated.json()["access_token"] == rotated["access_token"]
    assert [seen[0] for seen, _cost in authorized] == [
        first["access_token"],
        rotated["access_token"],
        rotated["access_token"],
    ]


# --- the one transaction, raced for real ----------------------------------------------------------------


def test_two_connections_redeeming_one_code_at_once_leave_one_set_of_tokens(
    signed_in_client, code_app, monkeypatch
):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite admits one writer at a time: the second request only starts after the first")
    verifier, challenge = pkce_pair()
    code = obtain_code(signed_in_client, code_app, code_challenge=challenge, code_challenge_method="S256")
    # Both requests have saved their tokens before either deletes the code: the race oauthlib leaves open.
    both_saved = threading.Barrier(2, timeout=20)
    invalidate = OAuth2Validator.invalidate_authorization_code

    def invalidate_once_both_saved(validator, *args, **kwargs):
        both_saved.wait()
        return invalidate(validator, *args, **kwargs)

    monkeypatch.setattr(OAuth2Validator, "invalidate_authorization_code", invalidate_once_both_saved)
    responses = []

    def redeem():
        try:
            responses.append(exchange_code(Client(), code_app, code, code_verifier=verifier))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=redeem) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(response.status_code for response in responses) == [200, 400]
    [winner] = [response.json() for response in responses if response.status_code == 200]
    [loser] = [response.json() for response in responses if response.status_code == 400]
    assert loser["error"] == "invalid_grant"
    assert list(get_access_token_model().objects.values_list("token", flat=True)) == [winner["access_token"]]
    assert list(get_refresh_token_model().objects.values_list("token", flat=True)) == [
        winner["refresh_token"]
    ]
