"""What the revocation and introspection endpoints read from the database, and that reading less loses
nothing.

Both load the access token by its checksum. Revocation also needs the refresh token issued with it (RFC 7009
section 2.1: it is revoked too): it comes in the same query, so revoking costs DOT 3.0.1's statements.
Introspection answers with four values out of the three rows it joins, and as shipped loads only those;
a model whose own code needs more gets whole rows.
"""

import re

import pytest
from django.db import connection
from django.db.models.signals import post_delete
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from tests.flow_helpers import (
    CLIENT_SECRET,
    FLOW_URLS,
    access_token_row,
    basic_auth,
    issued_tokens,
    password_grant,
    post_token,
    refresh_token_row,
    revoke,
    sent_statements,
)


pytestmark = [pytest.mark.urls(FLOW_URLS), pytest.mark.django_db]

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()


def reads_from(statements, model):
    table = re.escape(model._meta.db_table)
    return [sql for sql in statements if re.match(rf"SELECT .* FROM [`\"]?{table}\b", sql)]


def client_credentials_token(client, app):
    response = post_token(
        client, {"grant_type": "client_credentials"}, basic_auth(app.client_id, CLIENT_SECRET)
    )
    return response.json()["access_token"]


def introspect(client, service_app, token):
    return client.post(
        reverse("oauth2_provider:introspect"),
        {"token": token},
        **basic_auth(service_app.client_id, CLIENT_SECRET),
    )


@pytest.fixture
def code_tokens(signed_in_client, code_app, without_pkce):
    return issued_tokens(signed_in_client, code_app)


# Revocation


def test_revoking_an_access_token_without_refresh_token_costs_what_3_0_1_costs(client, service_app):
    """The client's row, the access token with its refresh token joined, the key nulled, the delete."""
    value = client_credentials_token(client, service_app)
    with CaptureQueriesContext(connection) as captured:
        assert revoke(client, service_app, value, "access_token").status_code == 200

    assert access_token_row(value) is None
    assert len(sent_statements(captured)) == 4


def test_revoking_an_access_token_reads_its_refresh_token_only_to_lock_it(client, code_app, code_tokens):
    with CaptureQueriesContext(connection) as captured:
        assert revoke(client, code_app, code_tokens["access_token"], "access_token").status_code == 200

    assert len(reads_from(sent_statements(captured), RefreshToken)) == 1
    assert access_token_row(code_tokens["access_token"]) is None
    assert refresh_token_row(code_tokens["refresh_token"]).revoked is not None


def test_a_deletion_listener_still_sees_the_whole_revoked_token(client, service_app):
    """A project auditing deleted tokens reads them in post_delete, when the row is gone: it must get the
    row's values, not a deferred field that can no longer be loaded."""
    value = client_credentials_token(client, service_app)
    row = access_token_row(value)
    seen = []

    def audit(sender, instance, **kwargs):
        seen.append((instance.token, instance.scope, instance.application_id, instance.expires))

    post_delete.connect(audit, sender=AccessToken)
    try:
        assert revoke(client, service_app, value).status_code == 200
    finally:
        post_delete.disconnect(audit, sender=AccessToken)

    assert seen == [(row.token, row.scope, row.application_id, row.expires)]


def test_a_revoke_of_its_own_gets_the_whole_token(client, service_app, monkeypatch):
    """An access token model whose revoke() reads the row sees every field, none left to load later."""
    value = client_credentials_token(client, service_app)
    seen = []

    def revoke_and_record(token):
        seen.append((token.get_deferred_fields(), token.token))
        token.delete()

    monkeypatch.setattr(AccessToken, "revoke", revoke_and_record)
    assert revoke(client, service_app, value).status_code == 200

    assert seen == [(set(), value)]
    assert access_token_row(value) is None


# Introspection


@pytest.mark.usefixtures("resource_owner")
def test_introspection_reads_neither_the_users_password_nor_the_client_secret(
    client, password_app, service_app
):
    """The answer needs four values; the password hash and the client secret never leave the database."""
    tokens = password_grant(client, password_app, scope="read").json()
    with CaptureQueriesContext(connection) as captured:
        body = introspect(client, service_app, tokens["access_token"]).json()

    assert body == {
        "active": True,
        "scope": "read",
        "exp": int(access_token_row(tokens["access_token"]).expires.timestamp()),
        "client_id": password_app.client_id,
        "username": "alice",
    }
    [token_read] = reads_from(sent_statements(captured), AccessToken)
    assert "password" not in token_read
    assert "client_secret" not in token_read
    assert len(sent_statements(captured)) == 2


@pytest.mark.usefixtures("resource_owner")
def test_a_username_of_its_own_is_loaded_when_read(client, password_app, service_app, monkeypatch):
    """A user model whose get_username() reads another field still answers right (one query more)."""
    tokens = password_grant(client, password_app, scope="read").json()
    user_model = type(access_token_row(tokens["access_token"]).user)
    monkeypatch.setattr(user_model, "get_username", lambda user: f"{user.username} <{user.email}>")

    body = introspect(client, service_app, tokens["access_token"]).json()

    assert body["username"] == f"alice <{access_token_row(tokens['access_token']).user.email}>"


@pytest.mark.usefixtures("resource_owner")
def test_a_validity_check_of_its_own_gets_the_whole_token(client, password_app, service_app, monkeypatch):
    tokens = password_grant(client, password_app, scope="read").json()
    seen = []

    def is_valid(token, scopes=None):
        seen.append(token.get_deferred_fields())
        return not token.is_expired() and token.token.startswith(tokens["access_token"][:4])

    monkeypatch.setattr(AccessToken, "is_valid", is_valid)
    with CaptureQueriesContext(connection) as captured:
        body = introspect(client, service_app, tokens["access_token"]).json()

    assert body["active"] is True
    assert seen == [set()]
    assert len(sent_statements(captured)) == 2
