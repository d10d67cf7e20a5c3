"""Hostile and broken requests to the authorization server: each gets its RFC 6749 error, never a 500.

At the token endpoint that is the JSON error of RFC 6749 section 5.2 with status 400 (401 for client
authentication); at the authorization endpoint, a request whose client or redirect URI cannot be trusted is
answered with an error page and never redirected (section 4.1.2.1), other errors are redirected to the client.
Django's test client re-raises any exception a view lets through, so a 500 fails these tests loudly.
"""

import base64
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from oauth2_provider.exceptions import FatalClientError, OAuthToolkitError
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model
from oauth2_provider.oauth2_backends import OAuthLibCore
from oauth2_provider.oauth2_validators import OAuth2Validator
from tests.flow_helpers import (
    CLIENT_SECRET,
    FLOW_URLS,
    OWNER_PASSWORD,
    REDIRECT_URI,
    access_token_row,
    assert_error_page,
    assert_oauth_error,
    authorization_params,
    authorize_url,
    basic_auth,
    consent,
    exchange_code,
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

HUGE = "x" * 100_000
# A PKCE challenge for authorization requests meant to fail on something else (PKCE is required by default).
ANY_CHALLENGE = "c" * 43


@pytest.fixture
def rival_app(make_app):
    """A second confidential code client with a secret of its own."""
    return make_app("rival client", client_secret="the-rival-secret")


def no_tokens_issued():
    return not get_access_token_model().objects.exists()


# --- client authentication at the token endpoint (RFC 6749 section 2.3 and 3.2.1) ------------------------


def test_wrong_secret_in_basic_auth(client, password_app, resource_owner):
    response = post_token(
        client,
        {"grant_type": "password", "username": "alice", "password": OWNER_PASSWORD},
        basic_auth(password_app.client_id, "not-the-secret"),
    )

    assert_oauth_error(response, 401, "invalid_client")
    assert no_tokens_issued()


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param({"client_secret": "not-the-secret"}, id="wrong-secret"),
        pytest.param({}, id="missing-secret"),
        pytest.param({"client_secret": ""}, id="empty-secret"),
    ],
)
def test_confidential_client_without_its_secret_in_the_body(client, service_app, credentials):
    data = {"grant_type": "client_credentials", "client_id": service_app.client_id, **credentials}

    assert_oauth_error(post_token(client, data), 401, "invalid_client")
    assert no_tokens_issued()


def test_no_client_authentication_at_all(client, password_app, resource_owner):
    data = {"grant_type": "password", "username": "alice", "password": OWNER_PASSWORD}

    assert_oauth_error(post_token(client, data), 401, "invalid_client")


@pytest.mark.parametrize("where", ["basic", "body"])
def test_client_id_of_another_application_with_this_ones_secret(client, service_app, rival_app, where):
    # rival_app's id with service_app's secret: the pair belongs to no client.
    data = {"grant_type": "client_credentials"}
    if where == "basic":
        response = post_token(client, data, basic_auth(rival_app.client_id, CLIENT_SECRET))
    else:
        response = post_token(
            client, {**data, "client_id": rival_app.client_id, "client_secret": CLIENT_SECRET}
        )

    assert_oauth_error(response, 401, "invalid_client")


def test_unknown_client(client, service_app):
    response = post_token(client, {"grant_type": "client_credentials"}, basic_auth("no-such-client", "x"))

    assert_oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize("where", ["basic", "body"])
def test_public_client_sending_a_wrong_secret(signed_in_client, public_app, where):
    verifier, challenge = pkce_pair()
    code = obtain_code(signed_in_client, public_app, code_challenge=challenge, code_challenge_method="S256")

    if where == "basic":
        response = exchange_code(signed_in_client, public_app, code, secret="guessed", code_verifier=verifier)
    else:
        response = exchange_code(
            signed_in_client, public_app, code, secret=None, client_secret="guessed", code_verifier=verifier
        )

    assert_oauth_error(response, 401, "invalid_client")
    assert no_tokens_issued()


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Basic !!!not-base64!!!", id="not-base64"),
        pytest.param("Basic " + base64.b64encode(b"no-colon-here").decode(), id="no-colon"),
        pytest.param("Basic " + base64.b64encode("clïent:sécret".encode("latin-1")).decode(), id="latin-1"),
        pytest.param("Basic " + base64.b64encode("clïent✓:sécret".encode()).decode(), id="utf-8"),
        pytest.param("Basic " + base64.b64encode(HUGE.encode() + b":" + HUGE.encode()).decode(), id="huge"),
        pytest.param("Basic", id="no-credentials"),
    ],
)
def test_garbage_basic_auth_header(client, service_app, header):
    response = post_token(client, {"grant_type": "client_credentials"}, {"HTTP_AUTHORIZATION": header})

    assert_oauth_error(response, 401, "invalid_client")


# --- redirect URIs (RFC 6749 section 3.1.2, 4.1.2.1 and 10.6) ---------------------------------------------


LOOK_ALIKES = [
    pytest.param("https://attacker.example.net/callback", id="unregistered"),
    pytest.param("https://client.example.com/callback-evil", id="prefix"),
    pytest.param("https://client.example.com/callbac", id="truncated"),
    pytest.param("https://client.example.com/callback/evil", id="extra-path"),
    pytest.param("https://client.example.com/other/../callback", id="dot-segments"),
    pytest.param("http://client.example.com/callback", id="other-scheme"),
    pytest.param("https://client.example.com:8443/callback", id="other-port"),
    pytest.param("https://client.example.com.attacker.net/callback", id="host-prefix"),
    pytest.param("https://evil.client.example.com/callback", id="subdomain"),
    pytest.param("https://client.example.com@attacker.net/callback", id="userinfo"),
    pytest.param("https://CLIENT.example.com/Callback", id="case"),
    pytest.param("javascript:alert(1)//client.example.com/callback", id="javascript"),
    pytest.param("/callback", id="relative"),
]


@pytest.mark.parametrize("redirect_uri", LOOK_ALIKES)
def test_authorization_request_with_a_look_alike_redirect_uri(signed_in_client, code_app, redirect_uri):
    params = authorization_params(code_app, redirect_uri=redirect_uri, code_challenge=ANY_CHALLENGE)

    assert_error_page(signed_in_client.get(authorize_url(params)))


@pytest.mark.parametrize("allow", [True, False], ids=["allow", "deny"])
@pytest.mark.parametrize("redirect_uri", LOOK_ALIKES)
def test_consent_form_with_a_tampered_redirect_uri(signed_in_client, code_app, redirect_uri, allow):
    """Neither the grant nor the refusal may go to a redirect URI the client did not register."""
    params = authorization_params(code_app, code_challenge=ANY_CHALLENGE)

    response = consent(signed_in_client, params, allow=allow, tamper={"redirect_uri": redirect_uri})

    assert_error_page(response)
    assert not get_grant_model().objects.exists()


def test_refusal_naming_the_redirect_uri_of_another_client(signed_in_client, code_app, make_app):
    make_app("other client", redirect_uris="https://other.example.org/cb")
    params = authorization_params(code_app, code_challenge=ANY_CHALLENGE)

    response = consent(
        signed_in_client, params, allow=False, tamper={"redirect_uri": "https://other.example.org/cb"}
    )

    assert_error_page(response)


def test_refusal_without_a_redirect_uri_goes_to_the_registered_one(code_app):
    """A project's consent view may leave the redirect URI out: the client's default applies, as to grants."""
    request = RequestFactory().post(reverse("oauth2_provider:authorize"))
    credentials = {"client_id": code_app.client_id, "redirect_uri": None, "response_type": "code"}

    with pytest.raises(OAuthToolkitError) as refused:
        OAuthLibCore().create_authorization_response(request, ["read"], credentials, allow=False)

    assert not isinstance(refused.value, FatalClientError)
    assert refused.value.oauthlib_error.redirect_uri == REDIRECT_URI
    assert refused.value.oauthlib_error.error == "access_denied"


@pytest.mark.usefixtures("without_pkce")
@pytest.mark.parametrize(
    "redirect_uri",
    ["https://attacker.example.net/callback", "https://client.example.com/callback/evil", REDIRECT_URI + "x"],
)
def test_token_request_with_another_redirect_uri_than_the_authorization(
    signed_in_client, code_app, redirect_uri
):
    code = obtain_code(signed_in_client, code_app)

    response = exchange_code(signed_in_client, code_app, code, redirect_uri=redirect_uri)

    assert_oauth_error(response, 400, "invalid_request")
    assert no_tokens_issued()


def test_redirect_uri_registered_for_another_client(signed_in_client, code_app, make_app):
    other = make_app("other client", redirect_uris="https://other.example.org/cb")

    params = authorization_params(other, code_challenge=ANY_CHALLENGE)

    assert_error_page(signed_in_client.get(authorize_url(params)))


@pytest.mark.parametrize("client_id", ["no-such-client", "", HUGE, "clïent✓"])
def test_authorization_request_for_an_unknown_client(signed_in_client, code_app, client_id):
    params = authorization_params(code_app, client_id=client_id)

    assert_error_page(signed_in_client.get(authorize_url(params)))


def test_unknown_response_type_is_reported_to_the_client(signed_in_client, code_app):
    params = authorization_params(code_app, response_type="bogus", state="s-5")

    redirect = location_params(signed_in_client.get(authorize_url(params)))

    assert (redirect["error"], redirect["state"]) == ("unsupported_response_type", "s-5")


@pytest.mark.usefixtures("without_pkce")
def test_response_type_the_client_may_not_use(signed_in_client, code_app):
    params = authorization_params(code_app, response_type="token", state="s-6")

    redirect = location_params(signed_in_client.get(authorize_url(params)))

    assert (redirect["error"], redirect["state"]) == ("unauthorized_client", "s-6")


@pytest.mark.usefixtures("without_pkce")
@pytest.mark.parametrize("scope", ["read admin", "admin", "réad", HUGE])
def test_authorization_request_for_unknown_scopes(signed_in_client, code_app, scope):
    params = authorization_params(code_app, scope=scope, state="s-7")

    redirect = location_params(signed_in_client.get(authorize_url(params)))

    assert (redirect["error"], redirect["state"]) == ("invalid_scope", "s-7")


# --- authorization codes (RFC 6749 section 4.1.2 and 10.5) -------------------------------------------------


@pytest.mark.usefixtures("without_pkce")
def test_reused_authorization_code(signed_in_client, code_app):
    code = obtain_code(signed_in_client, code_app)
    assert exchange_code(signed_in_client, code_app, code).status_code == 200

    assert_oauth_error(exchange_code(signed_in_client, code_app, code), 400, "invalid_grant")
    assert get_access_token_model().objects.count() == 1


@pytest.mark.usefixtures("without_pkce")
def test_expired_authorization_code(signed_in_client, code_app):
    code = obtain_code(signed_in_client, code_app)
    get_grant_model().objects.filter(code=code).update(expires=timezone.now() - timedelta(seconds=1))

    assert_oauth_error(exchange_code(signed_in_client, code_app, code), 400, "invalid_grant")
    assert no_tokens_issued()


@pytest.mark.usefixtures("without_pkce")
def test_code_issued_to_another_confidential_client(signed_in_client, code_app, rival_app):
    code = obtain_code(signed_in_client, code_app)

    response = exchange_code(signed_in_client, rival_app, code, secret="the-rival-secret")

    assert_oauth_error(response, 400, "invalid_grant")
    assert no_tokens_issued()


def test_code_of_a_confidential_client_redeemed_by_a_public_one(signed_in_client, code_app, public_app):
    verifier, challenge = pkce_pair()
    code = obtain_code(signed_in_client, code_app, code_challenge=challenge, code_challenge_method="S256")

    response = exchange_code(signed_in_client, public_app, code, secret=None, code_verifier=verifier)

    assert_oauth_error(response, 400, "invalid_grant")
    assert no_tokens_issued()


@pytest.mark.usefixtures("without_pkce")
def test_losing_a_race_for_a_code_leaves_no_token(signed_in_client, code_app, monkeypatch):
    """oauthlib saves the tokens before it invalidates the code: the loser's tokens must not stay."""
    code = obtain_code(signed_in_client, code_app)
    invalidate = OAuth2Validator.invalidate_authorization_code

    def redeemed_meanwhile(validator, client_id, code, request, *args, **kwargs):
        # Another request redeems the code between the save of this one's tokens and this line.
        get_grant_model().objects.filter(code=code).delete()
        return invalidate(validator, client_id, code, request, *args, **kwargs)

    monkeypatch.setattr(OAuth2Validator, "invalidate_authorization_code", redeemed_meanwhile)

    assert_oauth_error(exchange_code(signed_in_client, code_app, code), 400, "invalid_grant")
    assert no_tokens_issued()
    assert not get_refresh_token_model().objects.exists()


@pytest.mark.parametrize("code", ["made-up-code", HUGE, "cödé✓", "code\x00with-nul"])
def test_unknown_or_malformed_code(client, code_app, code):
    response = exchange_code(client, code_app, code, code_verifier="v" * 43)

    assert_oauth_error(response, 400, "invalid_grant")


# --- PKCE (RFC 7636) --------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["S256", "plain"])
def test_wrong_code_verifier(signed_in_client, public_app, method):
    _verifier, challenge = pkce_pair(method)
    code = obtain_code(signed_in_client, public_app, code_challenge=challenge, code_challenge_method=method)
    other_verifier, _challenge = pkce_pair(method)

    response = exchange_code(signed_in_client, public_app, code, secret=None, code_verifier=other_verifier)

    assert_oauth_error(response, 400, "invalid_grant")
    assert no_tokens_issued()


def test_s256_challenge_cannot_be_answered_with_the_challenge_itself(signed_in_client, public_app):
    _verifier, challenge = pkce_pair("S256")
    code = obtain_code(signed_in_client, public_app, code_challenge=challenge, code_challenge_method="S256")

    response = exchange_code(signed_in_client, public_app, code, secret=None, code_verifier=challenge)

    assert_oauth_error(response, 400, "invalid_grant")


def test_missing_code_verifier(signed_in_client, public_app):
    _verifier, challenge = pkce_pair()
    code = obtain_code(signed_in_client, public_app, code_challenge=challenge, code_challenge_method="S256")

    response = exchange_code(signed_in_client, public_app, code, secret=None)

    assert_oauth_error(response, 400, "invalid_request")
    assert no_tokens_issued()


def test_authorization_request_without_a_challenge_when_pkce_is_required(signed_in_client, public_app):
    params = authorization_params(public_app, state="s-8")

    redirect = location_params(signed_in_client.get(authorize_url(params)))

    assert (redirect["error"], redirect["state"]) == ("invalid_request", "s-8")


def test_unsupported_code_challenge_method(signed_in_client, public_app):
    params = authorization_params(public_app, code_challenge=ANY_CHALLENGE, code_challenge_method="S512")

    assert location_params(signed_in_client.get(authorize_url(params)))["error"] == "invalid_request"


# --- refresh tokens (RFC 6749 section 6 and 10.4) ---------------------------------------------------------


@pytest.mark.usefixtures("without_pkce")
@pytest.mark.parametrize("scope", ["read write", "write", "read admin"])
def test_scope_escalation_on_refresh(signed_in_client, code_app, scope):
    tokens = issued_tokens(signed_in_client, code_app, scope="read")

    response = refresh(signed_in_client, code_app, tokens["refresh_token"], scope=scope)

    assert_oauth_error(response, 400, "invalid_scope")
    assert refresh_token_row(tokens["refresh_token"]).revoked is None


@pytest.mark.usefixtures("without_pkce")
def test_refresh_token_of_another_client(signed_in_client, code_app, rival_app):
    tokens = issued_tokens(signed_in_client, code_app)

    response = post_token(
        signed_in_client,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        basic_auth(rival_app.client_id, "the-rival-secret"),
    )

    assert_oauth_error(response, 400, "invalid_grant")
    assert refresh_token_row(tokens["refresh_token"]).revoked is None


@pytest.mark.parametrize("token", ["made-up", HUGE, "réfresh✓", "nul\x00byte"])
def test_unknown_or_malformed_refresh_token(client, code_app, token):
    assert_oauth_error(refresh(client, code_app, token), 400, "invalid_grant")


@pytest.mark.usefixtures("without_pkce")
def test_replayed_refresh_token_is_refused(signed_in_client, code_app):
    tokens = issued_tokens(signed_in_client, code_app)
    renewed = refresh(signed_in_client, code_app, tokens["refresh_token"]).json()

    assert_oauth_error(refresh(signed_in_client, code_app, tokens["refresh_token"]), 400, "invalid_grant")

    # Without reuse protection the tokens issued by the first refresh stay valid.
    assert access_token_row(renewed["access_token"]) is not None
    assert refresh(signed_in_client, code_app, renewed["refresh_token"]).status_code == 200


@pytest.mark.usefixtures("without_pkce")
def test_replayed_refresh_token_with_reuse_protection_revokes_the_family(
    signed_in_client, code_app, provider_settings
):
    provider_settings(REFRESH_TOKEN_REUSE_PROTECTION=True)
    tokens = issued_tokens(signed_in_client, code_app)
    renewed = refresh(signed_in_client, code_app, tokens["refresh_token"]).json()
    unrelated = issued_tokens(signed_in_client, code_app)

    assert_oauth_error(refresh(signed_in_client, code_app, tokens["refresh_token"]), 400, "invalid_grant")

    # The thief and the client cannot be told apart: every token of the family is revoked.
    assert refresh_token_row(renewed["refresh_token"]).revoked is not None
    assert access_token_row(renewed["access_token"]) is None
    assert_oauth_error(refresh(signed_in_client, code_app, renewed["refresh_token"]), 400, "invalid_grant")
    # Another family of the same user and client is untouched.
    assert refresh_token_row(unrelated["refresh_token"]).revoked is None
    assert access_token_row(unrelated["access_token"]) is not None


@pytest.mark.usefixtures("without_pkce")
def test_replay_within_the_grace_period_returns_the_same_tokens(
    signed_in_client, code_app, provider_settings
):
    provider_settings(REFRESH_TOKEN_GRACE_PERIOD_SECONDS=120, REFRESH_TOKEN_REUSE_PROTECTION=True)
    tokens = issued_tokens(signed_in_client, code_app)

    first = refresh(signed_in_client, code_app, tokens["refresh_token"])
    second = refresh(signed_in_client, code_app, tokens["refresh_token"])

    assert first.status_code == second.status_code == 200
    assert second.json()["access_token"] == first.json()["access_token"]
    assert second.json()["refresh_token"] == first.json()["refresh_token"]
    assert access_token_row(first.json()["access_token"]) is not None
    assert refresh_token_row(first.json()["refresh_token"]).revoked is None


@pytest.mark.usefixtures("without_pkce")
@pytest.mark.parametrize("reuse_protection", [False, True])
def test_replay_after_the_grace_period(signed_in_client, code_app, provider_settings, reuse_protection):
    provider_settings(REFRESH_TOKEN_GRACE_PERIOD_SECONDS=120, REFRESH_TOKEN_REUSE_PROTECTION=reuse_protection)
    tokens = issued_tokens(signed_in_client, code_app)
    renewed = refresh(signed_in_client, code_app, tokens["refresh_token"]).json()
    old = refresh_token_row(tokens["refresh_token"])
    old.revoked = timezone.now() - timedelta(seconds=121)
    old.save()

    assert_oauth_error(refresh(signed_in_client, code_app, tokens["refresh_token"]), 400, "invalid_grant")

    assert (refresh_token_row(renewed["refresh_token"]).revoked is not None) is reuse_protection
    assert (access_token_row(renewed["access_token"]) is None) is reuse_protection


# --- revocation (RFC 7009 section 2.1 and 2.2.1) ---------------------------------------------------------


def revoke(client, data, headers):
    return client.post(reverse("oauth2_provider:revoke-token"), data, **headers)


@pytest.mark.usefixtures("resource_owner")
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(basic_auth("no-such-client", "x"), id="unknown-client"),
        pytest.param({}, id="anonymous"),
    ],
)
def test_revocation_without_valid_client_credentials(client, password_app, headers):
    token = password_grant(client, password_app).json()["access_token"]

    assert_oauth_error(revoke(client, {"token": token}, headers), 401, "invalid_client")
    assert access_token_row(token) is not None


@pytest.mark.usefixtures("resource_owner")
def test_revocation_with_a_wrong_secret(client, password_app):
    token = password_grant(client, password_app).json()["access_token"]

    response = revoke(client, {"token": token}, basic_auth(password_app.client_id, "not-the-secret"))

    assert_oauth_error(response, 401, "invalid_client")
    assert access_token_row(token) is not None


def test_revocation_without_a_token(client, password_app):
    response = revoke(client, {}, basic_auth(password_app.client_id, CLIENT_SECRET))

    assert_oauth_error(response, 400, "invalid_request")


# --- grant types ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("grant_type", ["bogus", "urn:ietf:params:oauth:grant-type:jwt-bearer", "Password"])
def test_unsupported_grant_type(client, password_app, grant_type):
    response = post_token(
        client,
        {"grant_type": grant_type, "username": "alice", "password": OWNER_PASSWORD},
        basic_auth(password_app.client_id, CLIENT_SECRET),
    )

    assert_oauth_error(response, 400, "unsupported_grant_type")


def test_grant_type_the_client_is_not_registered_for(client, code_app):
    response = post_token(
        client, {"grant_type": "client_credentials"}, basic_auth(code_app.client_id, CLIENT_SECRET)
    )

    assert_oauth_error(response, 400, "unauthorized_client")
    assert no_tokens_issued()


def test_wrong_password(client, password_app, resource_owner):
    assert_oauth_error(password_grant(client, password_app, password="wrong"), 400, "invalid_grant")


def test_inactive_user(client, password_app, resource_owner, settings):
    # AllowAllUsersModelBackend authenticates inactive users, so the refusal must come from the validator.
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    resource_owner.is_active = False
    resource_owner.save()

    assert_oauth_error(password_grant(client, password_app), 400, "invalid_grant")
    assert no_tokens_issued()


# --- malformed bodies -------------------------------------------------------------------------------------


def test_json_body_where_form_data_is_expected(client, password_app, resource_owner):
    # The token endpoint reads application/x-www-form-urlencoded (RFC 6749 section 4.3.2): a JSON body
    # carries no parameters, so the request has no grant type.
    body = {"grant_type": "password", "username": "alice", "password": OWNER_PASSWORD}

    response = client.post(
        reverse("oauth2_provider:token"),
        json.dumps(body),
        content_type="application/json",
        **basic_auth(password_app.client_id, CLIENT_SECRET),
    )

    assert_oauth_error(response, 400, "unsupported_grant_type")
    assert no_tokens_issued()


@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream", "application/xml"])
def test_form_body_under_another_content_type(client, password_app, resource_owner, content_type):
    body = urlencode({"grant_type": "password", "username": "alice", "password": OWNER_PASSWORD})

    response = client.post(
        reverse("oauth2_provider:token"),
        body,
        content_type=content_type,
        **basic_auth(password_app.client_id, CLIENT_SECRET),
    )

    assert_oauth_error(response, 400, "unsupported_grant_type")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\xff\xfe\x00\x01garbage", id="binary"),
        pytest.param(b"grant_type", id="no-value"),
        pytest.param(b"=&=&&==", id="separators-only"),
        pytest.param(b"grant_type=%zz", id="bad-percent-escape"),
    ],
)
def test_unreadable_form_body(client, password_app, body):
    response = client.post(
        reverse("oauth2_provider:token"),
        body,
        content_type="application/x-www-form-urlencoded",
        **basic_auth(password_app.client_id, CLIENT_SECRET),
    )

    assert_oauth_error(response, 400, "unsupported_grant_type")


def test_bad_percent_escape_in_a_parameter_value(client, password_app, resource_owner):
    body = b"grant_type=password&username=%E0%A4%A&password=%zz"

    response = client.post(
        reverse("oauth2_provider:token"),
        body,
        content_type="application/x-www-form-urlencoded",
        **basic_auth(password_app.client_id, CLIENT_SECRET),
    )

    assert_oauth_error(response, 400, "invalid_grant")


@pytest.mark.parametrize("query", ["x=%zz", "x=%4g", "grant_type=%G0"])
def test_bad_percent_escape_in_the_token_endpoint_query(client, password_app, resource_owner, query):
    response = post_token(
        client,
        {"grant_type": "password", "username": "alice", "password": OWNER_PASSWORD},
        basic_auth(password_app.client_id, CLIENT_SECRET),
        query=query,
    )

    assert_oauth_error(response, 400, "invalid_request")
    assert no_tokens_issued()


def test_bad_percent_escape_in_the_authorization_query(signed_in_client, code_app):
    url = authorize_url(authorization_params(code_app, code_challenge=ANY_CHALLENGE)) + "&state=%zz"

    assert_error_page(signed_in_client.get(url))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="broken"),
        pytest.param(b'["grant_type", "password"]', id="array"),
        pytest.param(b'"grant_type=password"', id="string"),
        pytest.param(b"\xff\xfe{}", id="not-utf-8"),
        pytest.param(b"", id="empty"),
    ],
)
def test_malformed_json_body_at_a_json_token_endpoint(client, password_app, provider_settings, body):
    # tests.flow_urls serves a TokenView reading JSON bodies; rebuilding the oauthlib core on each request
    # makes sure it is the JSON one.
    provider_settings(ALWAYS_RELOAD_OAUTHLIB_CORE=True)

    response = client.post(
        reverse("json-token"),
        body,
        content_type="application/json",
        **basic_auth(password_app.client_id, CLIENT_SECRET),
    )

    assert_oauth_error(response, 400, "unsupported_grant_type")


def test_json_token_endpoint_reads_a_well_formed_body(
    client, password_app, resource_owner, provider_settings
):
    provider_settings(ALWAYS_RELOAD_OAUTHLIB_CORE=True)
    body = {"grant_type": "password", "username": "alice", "password": OWNER_PASSWORD}

    response = client.post(
        reverse("json-token"),
        json.dumps(body),
        content_type="application/json",
        **basic_auth(password_app.client_id, CLIENT_SECRET),
    )

    assert response.status_code == 200, response.content
    assert access_token_row(response.json()["access_token"]).user == resource_owner


# --- duplicated parameters (RFC 6749 section 3.1 and 3.2: "MUST NOT be included more than once") ---------


@pytest.mark.parametrize("query", ["grant_type=password", "username=mallory", "password=guess"])
def test_token_request_parameter_both_in_query_and_body(client, password_app, resource_owner, query):
    response = post_token(
        client,
        {"grant_type": "password", "username": "alice", "password": OWNER_PASSWORD},
        basic_auth(password_app.client_id, CLIENT_SECRET),
        query=query,
    )

    assert_oauth_error(response, 400, "invalid_request")
    assert no_tokens_issued()


@pytest.mark.usefixtures("without_pkce")
def test_code_exchange_with_a_second_redirect_uri_in_the_query(signed_in_client, code_app):
    code = obtain_code(signed_in_client, code_app)

    response = post_token(
        signed_in_client,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        basic_auth(code_app.client_id, CLIENT_SECRET),
        query=urlencode({"redirect_uri": "https://attacker.example.net/callback"}),
    )

    assert_oauth_error(response, 400, "invalid_request")
    assert no_tokens_issued()


@pytest.mark.parametrize(
    "duplicate",
    [
        {"redirect_uri": "https://attacker.example.net/callback"},
        {"client_id": "no-such-client"},
        {"response_type": "token"},
        {"state": "second-state"},
        {"scope": "write"},
    ],
    ids=lambda duplicate: next(iter(duplicate)),
)
def test_authorization_request_with_a_duplicated_parameter(signed_in_client, code_app, duplicate):
    params = authorization_params(code_app, code_challenge=ANY_CHALLENGE)

    response = signed_in_client.get(authorize_url(params) + "&" + urlencode(duplicate))

    assert_error_page(response)


# --- huge and non-ASCII values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"client_id": HUGE, "client_secret": CLIENT_SECRET}, id="client_id"),
        pytest.param({"client_secret": HUGE}, id="client_secret"),
        pytest.param({"client_id": "clïent✓", "client_secret": "sécret"}, id="non-ascii-client"),
        pytest.param({"client_secret": "sécret✓"}, id="non-ascii-secret"),
        pytest.param({"client_id": "client\x00id", "client_secret": CLIENT_SECRET}, id="nul-in-client_id"),
    ],
)
def test_hostile_client_credentials_in_the_body(client, service_app, data):
    data = {"grant_type": "client_credentials", "client_id": service_app.client_id, **data}

    assert_oauth_error(post_token(client, data), 401, "invalid_client")


@pytest.mark.parametrize("scope", [HUGE, "réad", "read\x00write", "read\u2003write"])
def test_hostile_scope(client, service_app, scope):
    response = post_token(
        client,
        {"grant_type": "client_credentials", "scope": scope},
        basic_auth(service_app.client_id, CLIENT_SECRET),
    )

    assert_oauth_error(response, 400, "invalid_scope")


# Not an accented "alice": MySQL's accent-insensitive collations would match that to the real user.
@pytest.mark.parametrize("username", [HUGE, "mällory", "alice\x00"])
def test_hostile_username(client, password_app, resource_owner, username):
    assert_oauth_error(password_grant(client, password_app, username=username), 400, "invalid_grant")


def test_non_ascii_credentials_of_a_real_user(client, password_app):
    owner = get_user_model().objects.create_user("jörg", "jorg@example.com", "pässwörd✓")

    response = password_grant(client, password_app, username="jörg", password="pässwörd✓")

    assert response.status_code == 200, response.content
    assert access_token_row(response.json()["access_token"]).user == owner


def test_non_ascii_client_credentials_in_basic_auth(client, make_app):
    app = make_app(
        "ünicode client",
        client_id="clïent-✓",
        client_secret="sécret-✓",
        authorization_grant_type="client-credentials",
        redirect_uris="",
    )

    response = post_token(client, {"grant_type": "client_credentials"}, basic_auth(app.client_id, "sécret-✓"))

    assert response.status_code == 200, response.content
    assert access_token_row(response.json()["access_token"]).application == app


@pytest.mark.usefixtures("without_pkce")
def test_non_ascii_state_comes_back_unchanged(signed_in_client, code_app):
    state = "état-✓-状態"

    redirect = location_params(consent(signed_in_client, authorization_params(code_app, state=state)))

    assert redirect["state"] == state


def test_huge_redirect_uri(signed_in_client, code_app):
    huge_uri = f"{REDIRECT_URI}/{HUGE}"
    params = authorization_params(code_app, redirect_uri=huge_uri, code_challenge=ANY_CHALLENGE)

    assert_error_page(signed_in_client.get(authorize_url(params)))
