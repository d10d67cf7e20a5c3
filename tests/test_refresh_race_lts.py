"""Two requests with one refresh token at once, on real concurrent connections (issue 26, finding 8).

A thief who stole a refresh token races the client that owns it. Both requests read the token as live
before either has rotated it. Without a grace period the second must be refused, and with
``REFRESH_TOKEN_REUSE_PROTECTION`` the whole family revoked, exactly as for a replay that comes later
(RFC 9700 section 4.14.2); with a grace period, the second gets what a retry within it gets.

On PostgreSQL and MariaDB the interleaving is forced, not hoped for: each request waits, after reading the
token and before going on, until the other has read it too. The tests are transactional: each request
commits on a connection of its own thread, as in production.
"""

import threading

import pytest
from django.db import connection, connections
from django.test import Client

from oauth2_provider import oauth2_validators
from oauth2_provider.models import get_access_token_model
from tests.flow_helpers import FLOW_URLS, password_grant, refresh, refresh_token_row, revoke


pytestmark = [pytest.mark.urls(FLOW_URLS), pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rotation(provider_settings):
    def configure(grace_period):
        provider_settings(
            ROTATE_REFRESH_TOKEN=True,
            REFRESH_TOKEN_GRACE_PERIOD_SECONDS=grace_period,
            REFRESH_TOKEN_REUSE_PROTECTION=True,
        )

    return configure


@pytest.fixture
def both_read_it_live(monkeypatch):
    """Hold each refresh, once it has read its token as live, until the other one has read it too."""
    if connection.vendor == "sqlite":
        return
    both_read = threading.Barrier(2, timeout=20)
    is_past_lifetime = oauth2_validators.is_past_lifetime

    def past_lifetime_once_both_read(refresh_token):
        both_read.wait()
        return is_past_lifetime(refresh_token)

    monkeypatch.setattr(oauth2_validators, "is_past_lifetime", past_lifetime_once_both_read)


def refresh_at_once(app, refresh_token):
    """Two clients (owner and thief) refresh with ``refresh_token`` at once, each on its own connection."""
    responses = []

    def send():
        try:
            responses.append(refresh(Client(), app, refresh_token))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    if connection.vendor == "sqlite":
        # SQLite admits one writer at a time (the test database's shared cache refuses a second one at
        # once instead of waiting), so there the two requests run one after the other, as SQLite would
        # order them; the outcome must be the same.
        for thread in threads:
            thread.start()
            thread.join(30)
    else:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert len(responses) == 2, "a request did not finish"
    return responses


def test_without_grace_period_the_second_of_two_concurrent_refreshes_revokes_the_family(
    client, password_app, resource_owner, rotation, both_read_it_live
):
    rotation(grace_period=0)
    stolen = password_grant(client, password_app).json()["refresh_token"]

    responses = refresh_at_once(password_app, stolen)

    assert sorted(response.status_code for response in responses) == [200, 400]
    [winner] = [response.json() for response in responses if response.status_code == 200]
    [loser] = [response.json() for response in responses if response.status_code == 400]
    assert loser["error"] == "invalid_grant"
    # Reuse protection fired: the family is revoked, the winner's new refresh token included.
    assert refresh_token_row(winner["refresh_token"]).revoked is not None
    assert refresh(client, password_app, winner["refresh_token"]).status_code == 400


def test_within_a_grace_period_both_concurrent_refreshes_get_the_same_tokens(
    client, password_app, resource_owner, rotation, both_read_it_live
):
    rotation(grace_period=60)
    stolen = password_grant(client, password_app).json()["refresh_token"]

    responses = refresh_at_once(password_app, stolen)

    assert [response.status_code for response in responses] == [200, 200]
    first, second = (response.json() for response in responses)
    assert first["refresh_token"] == second["refresh_token"]
    assert first["access_token"] == second["access_token"]
    assert refresh_token_row(first["refresh_token"]).revoked is None


def test_a_refresh_token_revoked_while_it_is_being_used_is_refused(
    client, password_app, resource_owner, rotation, monkeypatch
):
    """The owner revokes the token (RFC 7009) after the thief's refresh read it and before it locked it."""
    rotation(grace_period=0)
    stolen = password_grant(client, password_app).json()["refresh_token"]
    read, revoked = threading.Event(), threading.Event()
    if connection.vendor != "sqlite":
        is_past_lifetime = oauth2_validators.is_past_lifetime

        def past_lifetime_once_revoked(refresh_token):
            read.set()
            assert revoked.wait(20)
            return is_past_lifetime(refresh_token)

        monkeypatch.setattr(oauth2_validators, "is_past_lifetime", past_lifetime_once_revoked)
    else:
        # One writer at a time: the revocation simply comes first.
        read.set()
    responses = []

    def thief():
        try:
            responses.append(refresh(Client(), password_app, stolen))
        finally:
            connections.close_all()

    thread = threading.Thread(target=thief)
    if connection.vendor != "sqlite":
        thread.start()
    assert read.wait(20)
    assert revoke(Client(), password_app, stolen).status_code == 200
    revoked.set()
    if connection.vendor == "sqlite":
        thread.start()
    thread.join(30)

    [response] = responses
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_grant"
    assert not get_access_token_model().objects.exists()
