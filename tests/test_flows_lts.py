"""Every grant of the authorization server end to end, through Django's test client and a real database.

The client's side of each exchange is done by hand with the helpers of ``tests.flow_helpers``, so the tests
see exactly what a client sees: redirects, JSON bodies, status codes and headers (RFC 6749, 7009, 7636, 7662).
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model
from tests.flow_helpers import (
    CLIENT_SECRET,
    FLOW_URLS,
    REDIRECT_URI,
    access_token_row,
    authorization_params,
    authorize_url,
    basic_auth,
    consent,
    exchange_code,
    form_fields,
    issued_tokens,
    location_params,
    obtain_code,
    password_grant,
    pkce_pair,
    post_token,
    refresh,
    refresh_token_row,
)


pytestmark = pytest.mark.urls(FLOW_URLS)


def assert_token_response(response, scope):
    """A successful RFC 6749 section 5.1 response: JSON, never cached, a bearer token for ``scope``."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 36000
    assert body["scope"] == scope
    assert body["access_token"]
    return body


# --- authorization code grant (RFC 6749 section 4.1) ------------------------------------------------------


@pytest.mark.usefixtures("without_pkce")
def test_consent_page_names_the_client_and_the_requested_scopes(signed_in_client, code_app):
    params = authorization_params(code_app, scope="read write", state="xyz")

    response = signed_in_client.get(authorize_url(params))

    assert response.status_code == 200
    assert "oauth2_provider/authorize.html" in [t.name for t in response.templates]
    assert response.context["application"] == code_app
    assert response.context["scopes"] == ["read", "write"]
    assert response.context["scopes_descriptions"] == ["Reading scope", "Writing scope"]
    hidden = form_fields(response.content.decode())
    assert hidden["client_id"] == code_app.client_id
    assert hidden["redirect_uri"] == REDIRECT_URI
    assert hidden["response_type"] == "code"
    assert hidden["scope"] == "read write"
    assert hidden["state"] == "xyz"


def test_consent_page_sends_anonymous_users_to_the_login_page(client, code_app):
    response = client.get(authorize_url(authorization_params(code_app)))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.usefixtures("without_pkce")
def test_authorization_code_grant_from_consent_to_refresh(signed_in_client, code_app, resource_owner):
    approval = consent(signed_in_client, authorization_params(code_app, state="s-123"))

    assert approval["Location"].startswith(REDIRECT_URI + "?")
    redirect = location_params(approval)
    assert redirect["state"] == "s-123"
    grant = get_grant_model().objects.get(code=redirect["code"])
    assert (grant.application, grant.user, grant.scope) == (code_app, resource_owner, "read write")
    assert grant.redirect_uri == REDIRECT_URI

    tokens = assert_token_response(exchange_code(signed_in_client, code_app, redirect["code"]), "read write")

    assert not get_grant_model().objects.filter(code=redirect["code"]).exists()
    access = access_token_row(tokens["access_token"])
    assert (access.user, access.application, access.scope) == (resource_owner, code_app, "read write")
    assert access.refresh_token.token == tokens["refresh_token"]
    assert timedelta(seconds=35990) < access.expires - timezone.now() <= timedelta(seconds=36000)

    renewed = assert_token_response(
        refresh(signed_in_client, code_app, tokens["refresh_token"]), "read write"
    )
    assert renewed["access_token"] != tokens["access_token"]
    assert renewed["refresh_token"] != tokens["refresh_token"]
    assert access_token_row(renewed["access_token"]).user == resource_owner


@pytest.mark.usefixtures("without_pkce")
def test_code_flow_with_client_credentials_in_the_body(signed_in_client, code_app):
    code = obtain_code(signed_in_client, code_app)

    response = exchange_code(signed_in_client, code_app, code, secret=None, client_secret=CLIENT_SECRET)

    assert_token_response(response, "read write")


@pytest.mark.usefixtures("without_pkce")
def test_granted_scope_is_what_the_user_approved(signed_in_client, code_app):
    tokens = issued_tokens(signed_in_client, code_app, scope="read")

    assert tokens["scope"] == "read"
    assert access_token_row(tokens["access_token"]).scope == "read"


@pytest.mark.usefixtures("without_pkce")
def test_user_denying_access_sends_access_denied_to_the_client(signed_in_client, code_app):
    response = consent(signed_in_client, authorization_params(code_app, state="s-9"), allow=False)

    assert response["Location"].startswith(REDIRECT_URI + "?")
    redirect = location_params(response)
    assert (redirect["error"], redirect["state"]) == ("access_denied", "s-9")
    assert "code" not in redirect
    assert not get_grant_model().objects.exists()


@pytest.mark.usefixtures("without_pkce")
def test_skip_authorization_redirects_without_a_consent_page(signed_in_client, make_app):
    trusted = make_app("first party", skip_authorization=True)

    response = signed_in_client.get(authorize_url(authorization_params(trusted, state="s-1")))

    redirect = location_params(response)
    assert redirect["state"] == "s-1"
    assert_token_response(exchange_code(signed_in_client, trusted, redirect["code"]), "read write")


# --- PKCE (RFC 7636) --------------------------------------------------------------------------------------


def test_pkce_s256_public_client_needs_no_secret(signed_in_client, public_app, resource_owner):
    verifier, challenge = pkce_pair("S256")

    code = obtain_code(signed_in_client, public_app, code_challenge=challenge, code_challenge_method="S256")

    grant = get_grant_model().objects.get(code=code)
    assert (grant.code_challenge, grant.code_challenge_method) == (challenge, "S256")
    response = exchange_code(signed_in_client, public_app, code, secret=None, code_verifier=verifier)
    tokens = assert_token_response(response, "read write")
    assert access_token_row(tokens["access_token"]).user == resource_owner


def test_pkce_plain_confidential_client(signed_in_client, code_app):
    verifier, challenge = pkce_pair("plain")

    code = obtain_code(signed_in_client, code_app, code_challenge=challenge, code_challenge_method="plain")

    assert get_grant_model().objects.get(code=code).code_challenge_method == "plain"
    assert_token_response(
        exchange_code(signed_in_client, code_app, code, code_verifier=verifier), "read write"
    )


def test_pkce_refresh_of_a_public_client(signed_in_client, public_app):
    verifier, challenge = pkce_pair()
    code = obtain_code(signed_in_client, public_app, code_challenge=challenge, code_challenge_method="S256")
    tokens = exchange_code(signed_in_client, public_app, code, secret=None, code_verifier=verifier).json()

    response = post_token(
        signed_in_client,
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": public_app.client_id,
        },
    )

    renewed = assert_token_response(response, "read write")
    assert renewed["access_token"] != tokens["access_token"]


# --- implicit grant (RFC 6749 section 4.2) ----------------------------------------------------------------


def test_implicit_grant_returns_the_token_in_the_fragment(signed_in_client, implicit_app, resource_owner):
    params = authorization_params(implicit_app, response_type="token", scope="read", state="s-2")

    response = consent(signed_in_client, params)

    assert response["Location"].startswith(REDIRECT_URI + "#")
    fragment = location_params(response, part="fragment")
    assert fragment["token_type"] == "Bearer"
    assert fragment["state"] == "s-2"
    assert fragment["scope"] == "read"
    assert fragment["expires_in"] == "36000"
    assert "refresh_token" not in fragment
    access = access_token_row(fragment["access_token"])
    assert (access.user, access.application, access.scope) == (resource_owner, implicit_app, "read")
    assert not get_refresh_token_model().objects.exists()


# --- password and client credentials grants (RFC 6749 sections 4.3 and 4.4) -----------------------------


def test_password_grant(client, password_app, resource_owner):
    tokens = assert_token_response(password_grant(client, password_app, scope="read"), "read")

    access = access_token_row(tokens["access_token"])
    assert (access.user, access.application) == (resource_owner, password_app)
    assert refresh_token_row(tokens["refresh_token"]).access_token == access


def test_password_grant_without_scope_gets_the_default_scopes(client, password_app, resource_owner):
    assert_token_response(password_grant(client, password_app), "read write")


def test_client_credentials_grant_issues_a_token_without_user_or_refresh(client, service_app):
    response = post_token(
        client, {"grant_type": "client_credentials"}, basic_auth(service_app.client_id, CLIENT_SECRET)
    )

    tokens = assert_token_response(response, "read write")
    assert "refresh_token" not in tokens
    access = access_token_row(tokens["access_token"])
    assert (access.user, access.application) == (None, service_app)


def test_client_credentials_grant_with_credentials_in_the_body(client, service_app):
    response = post_token(
        client,
        {
            "grant_type": "client_credentials",
            "client_id": service_app.client_id,
            "client_secret": CLIENT_SECRET,
            "scope": "write",
        },
    )

    assert_token_response(response, "write")


# --- refresh (RFC 6749 section 6) -------------------------------------------------------------------------


@pytest.mark.usefixtures("without_pkce")
def test_refresh_rotates_the_refresh_token_by_default(signed_in_client, code_app):
    tokens = issued_tokens(signed_in_client, code_app)
    old_refresh = refresh_token_row(tokens["refresh_token"])

    renewed = assert_token_response(
        refresh(signed_in_client, code_app, tokens["refresh_token"]), "read write"
    )

    old_refresh.refresh_from_db()
    assert old_refresh.revoked is not None
    assert access_token_row(tokens["access_token"]) is None
    new_refresh = refresh_token_row(renewed["refresh_token"])
    assert new_refresh.revoked is None
    assert new_refresh.token_family == old_refresh.token_family
    assert access_token_row(renewed["access_token"]).source_refresh_token == old_refresh


@pytest.mark.usefixtures("without_pkce")
def test_refresh_with_scope_narrowed(signed_in_client, code_app):
    tokens = issued_tokens(signed_in_client, code_app)

    renewed = assert_token_response(
        refresh(signed_in_client, code_app, tokens["refresh_token"], scope="read"), "read"
    )

    assert access_token_row(renewed["access_token"]).scope == "read"


@pytest.mark.usefixtures("without_pkce")
def test_refresh_without_rotation_keeps_the_refresh_token(signed_in_client, code_app, provider_settings):
    provider_settings(ROTATE_REFRESH_TOKEN=False)
    tokens = issued_tokens(signed_in_client, code_app)
    access_pk = access_token_row(tokens["access_token"]).pk

    first = assert_token_response(refresh(signed_in_client, code_app, tokens["refresh_token"]), "read write")
    second = assert_token_response(refresh(signed_in_client, code_app, tokens["refresh_token"]), "read write")

    assert first["refresh_token"] == second["refresh_token"] == tokens["refresh_token"]
    assert len({tokens["access_token"], first["access_token"], second["access_token"]}) == 3
    # The one access token row is given the new value each time.
    assert access_token_row(tokens["access_token"]) is None
    assert access_token_row(first["access_token"]) is None
    assert access_token_row(second["access_token"]).pk == access_pk
    assert get_access_token_model().objects.count() == 1
    assert refresh_token_row(tokens["refresh_token"]).revoked is None


# --- revocation (RFC 7009) --------------------------------------------------------------------------------


def revoke(client, app, token, **extra):
    return client.post(
        reverse("oauth2_provider:revoke-token"),
        {"token": token, **extra},
        **basic_auth(app.client_id, CLIENT_SECRET),
    )


@pytest.mark.usefixtures("without_pkce")
@pytest.mark.parametrize(
    "hint", [{}, {"token_type_hint": "access_token"}, {"token_type_hint": "refresh_token"}]
)
def test_revoking_an_access_token(signed_in_client, code_app, hint):
    tokens = issued_tokens(signed_in_client, code_app)

    response = revoke(signed_in_client, code_app, tokens["access_token"], **hint)

    assert response.status_code == 200
    assert access_token_row(tokens["access_token"]) is None


@pytest.mark.usefixtures("without_pkce")
@pytest.mark.parametrize(
    "hint", [{}, {"token_type_hint": "refresh_token"}, {"token_type_hint": "access_token"}]
)
def test_revoking_a_refresh_token_also_revokes_its_access_token(signed_in_client, code_app, hint):
    tokens = issued_tokens(signed_in_client, code_app)

    response = revoke(signed_in_client, code_app, tokens["refresh_token"], **hint)

    assert response.status_code == 200
    assert refresh_token_row(tokens["refresh_token"]).revoked is not None
    assert access_token_row(tokens["access_token"]) is None
    refused = refresh(signed_in_client, code_app, tokens["refresh_token"])
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")


@pytest.mark.usefixtures("resource_owner")
def test_revoking_an_unknown_token_is_a_success(client, password_app):
    tokens = password_grant(client, password_app).json()

    response = revoke(client, password_app, "no-such-token")

    # RFC 7009 section 2.2: an invalid token is no reason for an error.
    assert response.status_code == 200
    assert access_token_row(tokens["access_token"]) is not None


def test_public_client_revokes_with_its_client_id(signed_in_client, public_app):
    verifier, challenge = pkce_pair()
    code = obtain_code(signed_in_client, public_app, code_challenge=challenge, code_challenge_method="S256")
    tokens = exchange_code(signed_in_client, public_app, code, secret=None, code_verifier=verifier).json()

    response = signed_in_client.post(
        reverse("oauth2_provider:revoke-token"),
        {"token": tokens["access_token"], "client_id": public_app.client_id},
    )

    assert response.status_code == 200
    assert access_token_row(tokens["access_token"]) is None


# --- introspection (RFC 7662) -----------------------------------------------------------------------------


def introspect(client, service_app, method, token):
    url = reverse("oauth2_provider:introspect")
    send = client.get if method == "GET" else client.post
    return send(url, {"token": token}, **basic_auth(service_app.client_id, CLIENT_SECRET))


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.usefixtures("resource_owner")
def test_introspection_of_a_local_token(client, password_app, service_app, method):
    tokens = password_grant(client, password_app, scope="read").json()
    access = access_token_row(tokens["access_token"])

    response = introspect(client, service_app, method, tokens["access_token"])

    assert response.status_code == 200
    assert response.json() == {
        "active": True,
        "scope": "read",
        "exp": int(access.expires.timestamp()),
        "client_id": password_app.client_id,
        "username": "alice",
    }


def test_introspection_of_a_client_credentials_token_has_no_username(client, service_app):
    token = post_token(
        client, {"grant_type": "client_credentials"}, basic_auth(service_app.client_id, CLIENT_SECRET)
    ).json()["access_token"]

    body = introspect(client, service_app, "POST", token).json()

    assert body["active"] is True
    assert body["client_id"] == service_app.client_id
    assert "username" not in body


@pytest.mark.usefixtures("resource_owner")
def test_introspection_reports_expired_revoked_and_unknown_tokens_inactive(client, password_app, service_app):
    expired, revoked = (password_grant(client, password_app).json() for _ in range(2))
    access = access_token_row(expired["access_token"])
    access.expires = timezone.now() - timedelta(seconds=1)
    access.save()
    assert revoke(client, password_app, revoked["access_token"]).status_code == 200

    for token in (expired["access_token"], revoked["access_token"], "unknown-token"):
        response = introspect(client, service_app, "POST", token)
        assert (response.status_code, response.json()) == (200, {"active": False})


def test_introspection_with_a_bearer_token_of_the_introspection_scope(client, service_app, provider_settings):
    provider_settings(
        SCOPES={"read": "Reading scope", "write": "Writing scope", "introspection": "Introspect"}
    )
    headers = basic_auth(service_app.client_id, CLIENT_SECRET)
    resource_server = post_token(
        client, {"grant_type": "client_credentials", "scope": "introspection"}, headers
    )
    subject = post_token(client, {"grant_type": "client_credentials", "scope": "read"}, headers).json()

    response = client.post(
        reverse("oauth2_provider:introspect"),
        {"token": subject["access_token"]},
        HTTP_AUTHORIZATION="Bearer " + resource_server.json()["access_token"],
    )

    assert response.status_code == 200
    assert response.json()["active"] is True
    assert response.json()["scope"] == "read"
