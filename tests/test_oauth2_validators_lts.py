"""Hostile input the validator decides on: each case gets a clean refusal (False or an OAuth2 error).

Client authentication, authorization codes with PKCE, refresh token replay and scope escalation, remote
introspection servers that fail, ID tokens that are not ours, and token lookups that go by checksum only.
The grant flows run through oauthlib's own server with our validator, without any view in between.
"""

import base64
import hashlib
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote_plus, urlencode

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter
from jwcrypto import jwk, jwt
from oauthlib.common import Request
from oauthlib.oauth2 import Server
from oauthlib.oauth2.rfc6749 import errors

from oauth2_provider import _request_values, oauth2_validators
from oauth2_provider._checksum import token_checksum
from oauth2_provider.models import AccessToken, Application, Grant, IDToken, RefreshToken
from oauth2_provider.oauth2_validators import OAuth2Validator


SECRET = "s3cret:with+odd%chars"
REDIRECT_URI = "https://client.example/cb"
INTROSPECTION_URL = "http://introspection.invalid/introspect/"

pytestmark = pytest.mark.django_db


# Fixtures and helpers


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.com", "correct horse")


@pytest.fixture
def confidential_app(user):
    return Application.objects.create(
        name="confidential",
        client_id="conf-client",
        client_secret=SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
        user=user,
    )


@pytest.fixture
def public_app(user):
    return Application.objects.create(
        name="public",
        client_id="public-client",
        client_secret=SECRET,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
        user=user,
    )


@pytest.fixture
def password_app(user):
    return Application.objects.create(
        name="password",
        client_id="password-client",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_PASSWORD,
        user=user,
    )


@pytest.fixture
def validator():
    return OAuth2Validator()


@pytest.fixture
def server(validator):
    return Server(validator)


def oauthlib_request(headers=None, **params):
    request = Request("https://server.example/o/token/", http_method="POST", headers=headers or {})
    for name, value in params.items():
        setattr(request, name, value)
    return request


def basic_header(raw_credentials):
    """An Authorization header whose Basic part encodes ``raw_credentials`` (bytes) as given."""
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(raw_credentials).decode("ascii")}


def post_token(server, headers=None, **data):
    """POST ``data`` to oauthlib's token endpoint: (status, decoded JSON body)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    _, body, status = server.create_token_response(
        "https://server.example/o/token/", http_method="POST", body=urlencode(data), headers=headers
    )
    return status, json.loads(body)


def make_grant(application, user, code="the-code", expires_in=60, **fields):
    return Grant.objects.create(
        application=application,
        user=user,
        code=code,
        expires=timezone.now() + timedelta(seconds=expires_in),
        redirect_uri=REDIRECT_URI,
        scope="read write",
        **fields,
    )


def s256(verifier):
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


# Client authentication


def test_basic_auth_with_form_encoded_credentials(validator, confidential_app):
    credentials = f"{quote_plus('conf-client')}:{quote_plus(SECRET)}".encode()
    request = oauthlib_request(headers=basic_header(credentials))
    assert validator.authenticate_client(request) is True
    assert request.client == confidential_app


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!!",  # not base64
        "Basic " + base64.b64encode(b"conf-client").decode(),  # no colon
        "Basic " + base64.b64encode(b"conf-client:\xff\xfe").decode(),  # not UTF-8
        "Basic ZHVtbXk=:ZHVtbXk=\n",  # base64 with junk inside
        "Basic caf\u00e9",  # non-ASCII in the header itself
        "Basic " + base64.b64encode(b"conf-client:wrong").decode(),  # wrong secret
        "Basic " + base64.b64encode(f"conf-client:{SECRET}".encode()).decode(),  # secret not form-encoded
        "Basic " + base64.b64encode(b"unknown:" + SECRET.encode()).decode(),  # unknown client
        "Basic " + base64.b64encode(b"conf\x00client:x").decode(),  # NUL in the client id
        "basic " + base64.b64encode(f"conf-client:{quote_plus(SECRET)}".encode()).decode(),  # scheme case
        "Basic",
        "Basic ",
        "Bearer abc",
    ],
)
def test_basic_auth_garbage_is_refused(validator, confidential_app, header):
    request = oauthlib_request(headers={"HTTP_AUTHORIZATION": header})
    assert validator._authenticate_basic_auth(request) is False
    assert validator.authenticate_client(request) is False


def test_basic_auth_with_an_unknown_request_encoding(validator, confidential_app):
    request = oauthlib_request(headers=basic_header(b"conf-client:x"), encoding="no-such-codec")
    assert validator._authenticate_basic_auth(request) is False


def test_basic_auth_for_another_client_than_the_loaded_one(validator, confidential_app, public_app):
    """The client loaded earlier (for the body's client_id) never stands in for the authenticated one."""
    credentials = f"conf-client:{quote_plus(SECRET)}".encode()
    request = oauthlib_request(headers=basic_header(credentials), client=public_app)
    assert validator._authenticate_basic_auth(request) is True
    assert request.client == confidential_app


def test_basic_auth_with_a_wrong_secret_drops_the_loaded_client(validator, confidential_app, public_app):
    credentials = f"conf-client:{quote_plus(SECRET)}-wrong".encode()
    request = oauthlib_request(headers=basic_header(credentials), client=public_app)
    assert validator.authenticate_client(request) is False
    assert request.client != public_app


# Upstream 3.4.1: an application already on the request is reused only for its own client id, while usable.


def test_a_loaded_application_does_not_answer_for_another_client_id(validator, confidential_app, public_app):
    request = oauthlib_request(client=public_app)
    assert validator.validate_client_id("conf-client", request) is True
    assert request.client == confidential_app


def test_a_loaded_application_that_became_unusable_is_dropped(validator, confidential_app, monkeypatch):
    request = oauthlib_request(client=confidential_app)
    monkeypatch.setattr(Application, "is_usable", lambda self, request: False)
    assert validator.validate_client_id("conf-client", request) is False
    assert request.client is None


def test_a_loaded_application_is_reused_without_a_query(
    validator, confidential_app, django_assert_num_queries
):
    request = oauthlib_request(client=confidential_app)
    with django_assert_num_queries(0):
        assert validator.validate_client_id("conf-client", request) is True
    assert request.client is confidential_app


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET.upper(), SECRET + " "])
def test_body_auth_with_a_wrong_or_missing_secret(validator, confidential_app, secret):
    request = oauthlib_request(client_id="conf-client", client_secret=secret)
    assert validator.authenticate_client(request) is False


def test_body_auth_with_the_right_secret(validator, confidential_app):
    request = oauthlib_request(client_id="conf-client", client_secret=SECRET)
    assert validator.authenticate_client(request) is True


@pytest.mark.parametrize("client_id", ["unknown", "", "conf\x00client", "x" * 10_000, None])
def test_unknown_or_unusable_client_ids_are_refused(validator, confidential_app, client_id):
    assert validator.validate_client_id(client_id, oauthlib_request()) is False
    assert validator.authenticate_client_id(client_id, oauthlib_request()) is False
    assert validator.authenticate_client(oauthlib_request(client_id=client_id, client_secret=SECRET)) is False


def test_unhashed_secret(validator, user):
    Application.objects.create(
        client_id="plain",
        client_secret="plain-secret",
        hash_client_secret=False,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        user=user,
    )
    assert validator.authenticate_client(oauthlib_request(client_id="plain", client_secret="plain-secret"))
    assert not validator.authenticate_client(oauthlib_request(client_id="plain", client_secret="plain-secre"))


def test_public_client_sending_a_secret_must_send_the_right_one(validator, public_app):
    request = oauthlib_request(client_id="public-client", client_secret="guessed")
    assert validator.client_authentication_required(request) is True
    assert validator.authenticate_client(request) is False
    request = oauthlib_request(client_id="public-client", client_secret=SECRET)
    assert validator.authenticate_client(request) is True


def test_public_client_without_secret_is_identified_not_authenticated(validator, public_app):
    request = oauthlib_request(client_id="public-client")
    assert validator.client_authentication_required(request) is False
    assert validator.authenticate_client_id("public-client", request) is True


def test_confidential_client_without_secret_must_authenticate(validator, confidential_app):
    request = oauthlib_request(client_id="conf-client")
    assert validator.client_authentication_required(request) is True
    assert validator.authenticate_client_id("conf-client", request) is False


def test_disabled_application_is_not_bound_to_the_request(validator, confidential_app, monkeypatch):
    monkeypatch.setattr(Application, "is_usable", lambda self, request: False)
    request = oauthlib_request(client_id="conf-client", client_secret=SECRET)
    assert validator.authenticate_client(request) is False
    assert request.client is None


def test_check_secret_refuses_non_strings(validator):
    assert validator._check_secret(None, "None") is False


# Grant types and response types


def test_unknown_grant_type_is_refused_not_asserted(validator, confidential_app):
    request = oauthlib_request(client=confidential_app)
    device = "urn:ietf:params:oauth:grant-type:device_code"
    assert validator.validate_grant_type("conf-client", device, confidential_app, request) is False


@pytest.mark.parametrize("response_type", ["none", "token code", "", "code code"])
def test_unknown_response_types_are_refused(validator, confidential_app, response_type):
    request = oauthlib_request(client=confidential_app)
    assert validator.validate_response_type("conf-client", response_type, confidential_app, request) is False


def test_default_redirect_uri_without_registered_uris(validator, password_app):
    """The flow cannot continue: oauthlib's invalid_request, without the request's state (upstream #958)."""
    request = oauthlib_request(client=password_app, state="s-1")
    with pytest.raises(errors.MissingRedirectURIError) as raised:
        validator.get_default_redirect_uri("password-client", request)
    assert raised.value.state is None


# Authorization codes and PKCE


def exchange_code(server, code="the-code", **extra):
    return post_token(
        server,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        client_id="public-client",
        **extra,
    )


def test_pkce_s256_right_and_wrong_verifier(server, public_app, user):
    verifier = "v" * 50
    make_grant(public_app, user, code_challenge=s256(verifier), code_challenge_method="S256")
    status, body = exchange_code(server, code_verifier="w" * 50)
    assert (status, body["error"]) == (400, "invalid_grant")
    status, body = exchange_code(server, code_verifier=verifier)
    assert status == 200 and body["access_token"]


def test_pkce_plain_does_not_accept_the_s256_transform(server, public_app, user):
    verifier = "p" * 50
    make_grant(public_app, user, code_challenge=verifier, code_challenge_method="plain")
    status, body = exchange_code(server, code_verifier=s256(verifier))
    assert (status, body["error"]) == (400, "invalid_grant")
    status, _ = exchange_code(server, code_verifier=verifier)
    assert status == 200


def test_pkce_missing_verifier(server, public_app, user):
    make_grant(public_app, user, code_challenge=s256("v" * 50), code_challenge_method="S256")
    status, body = exchange_code(server)
    assert (status, body["error"]) == (400, "invalid_request")
    assert Grant.objects.filter(code="the-code").exists()


def test_pkce_required_but_the_code_has_no_challenge(server, public_app, user, settings):
    settings.OAUTH2_PROVIDER = {"PKCE_REQUIRED": True}
    make_grant(public_app, user)
    status, body = exchange_code(server, code_verifier="v" * 50)
    assert (status, body["error"]) == (400, "invalid_grant")


def test_pkce_required_per_client(validator, settings):
    settings.OAUTH2_PROVIDER = {"PKCE_REQUIRED": lambda client_id: client_id == "strict"}
    assert validator.is_pkce_required("strict", None) is True
    assert validator.is_pkce_required("lax", None) is False


@pytest.mark.parametrize(
    "setting",
    [1, "yes", lambda client_id: 1, lambda client_id: "yes"],
    ids=["one", "text", "callable-one", "callable-text"],
)
def test_truthy_pkce_setting_requires_pkce(server, public_app, user, settings, setting):
    """oauthlib enforces PKCE only when the validator answers ``True`` itself, not any truthy value."""
    settings.OAUTH2_PROVIDER = {"PKCE_REQUIRED": setting}
    assert OAuth2Validator().is_pkce_required("public-client", None) is True
    make_grant(public_app, user)
    status, body = exchange_code(server)
    assert (status, body["error"]) == (400, "invalid_request")
    assert "verifier" in body["error_description"]


def test_expired_code(server, validator, public_app, user, settings):
    settings.OAUTH2_PROVIDER = {"PKCE_REQUIRED": False}
    make_grant(public_app, user, expires_in=-1)
    assert validator.validate_code("public-client", "the-code", public_app, oauthlib_request()) is False
    status, body = exchange_code(server)
    assert (status, body["error"]) == (400, "invalid_grant")
    assert not AccessToken.objects.exists()


def test_reused_code(server, public_app, user, settings):
    settings.OAUTH2_PROVIDER = {"PKCE_REQUIRED": False}
    make_grant(public_app, user)
    assert exchange_code(server)[0] == 200
    status, body = exchange_code(server)
    assert (status, body["error"]) == (400, "invalid_grant")
    assert AccessToken.objects.count() == 1


def test_code_of_another_client(server, validator, public_app, confidential_app, user):
    make_grant(confidential_app, user)
    assert validator.validate_code("public-client", "the-code", public_app, oauthlib_request()) is False
    assert validator.confirm_redirect_uri("public-client", "the-code", REDIRECT_URI, public_app) is False
    assert validator.get_code_challenge("the-code", oauthlib_request(client=public_app)) is None


def test_invalidating_a_code_twice(validator, public_app, user):
    make_grant(public_app, user)
    request = oauthlib_request(client=public_app)
    validator.invalidate_authorization_code("public-client", "the-code", request)
    with pytest.raises(errors.InvalidGrantError):
        validator.invalidate_authorization_code("public-client", "the-code", request)


@pytest.mark.parametrize("code", ["nul\x00code", None, ""])
def test_hostile_codes_are_not_found(validator, public_app, code):
    request = oauthlib_request(client=public_app)
    assert validator.validate_code("public-client", code, public_app, request) is False
    assert validator.get_authorization_code_scopes("public-client", code, REDIRECT_URI, request) == []
    assert validator.get_authorization_code_nonce("public-client", code, REDIRECT_URI, request) is None
    with pytest.raises(errors.InvalidGrantError):
        validator.invalidate_authorization_code("public-client", code, request)


@pytest.mark.parametrize("field", ["code_challenge", "nonce"])
def test_authorization_request_values_too_long_for_the_grant(validator, public_app, user, field):
    request = oauthlib_request(
        client=public_app, user=user, redirect_uri=REDIRECT_URI, scopes=["read"], **{field: "x" * 300}
    )
    with pytest.raises(errors.InvalidRequestError):
        validator.save_authorization_code("public-client", {"code": "c"}, request)
    assert not Grant.objects.exists()


# Password grant


@pytest.mark.parametrize(
    "username, password",
    [("alice", "wrong"), ("nobody", "correct horse"), ("al\x00ice", "correct horse"), ("alice", None)],
)
def test_password_grant_refuses_bad_credentials(validator, password_app, username, password):
    request = oauthlib_request(client=password_app, decoded_body=[("grant_type", "password")])
    assert validator.validate_user(username, password, password_app, request) is False
    assert request.user is None


def test_password_grant_refuses_inactive_users(validator, password_app, user, settings):
    # AllowAllUsersModelBackend authenticates inactive users, so the refusal must come from the validator.
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    user.is_active = False
    user.save()
    request = oauthlib_request(client=password_app, decoded_body=[("grant_type", "password")])
    assert validator.validate_user("alice", "correct horse", password_app, request) is False
    assert request.user is None


def test_password_grant_sets_the_user(validator, password_app, user):
    request = oauthlib_request(client=password_app, decoded_body=[("grant_type", "password")])
    assert validator.validate_user("alice", "correct horse", password_app, request) is True
    assert request.user == user


# Refresh tokens


def password_tokens(server, scope="read write"):
    status, body = post_token(
        server,
        grant_type="password",
        username="alice",
        password="correct horse",
        client_id="password-client",
        scope=scope,
    )
    assert status == 200, body
    return body


def refresh(server, refresh_token, **extra):
    return post_token(
        server, grant_type="refresh_token", refresh_token=refresh_token, client_id="password-client", **extra
    )


def test_refresh_rotates_and_refuses_replay(server, password_app, user):
    first = password_tokens(server)
    status, second = refresh(server, first["refresh_token"])
    assert status == 200 and second["refresh_token"] != first["refresh_token"]
    assert not AccessToken.objects.filter(token_checksum=token_checksum(first["access_token"])).exists()
    status, body = refresh(server, first["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    # Without reuse protection the replay leaves the new tokens alone.
    assert refresh(server, second["refresh_token"])[0] == 200


def test_refresh_replay_with_reuse_protection_revokes_the_family(server, password_app, user, settings):
    settings.OAUTH2_PROVIDER = {"REFRESH_TOKEN_REUSE_PROTECTION": True}
    first = password_tokens(server)
    _, second = refresh(server, first["refresh_token"])
    family = RefreshToken.objects.get(token=first["refresh_token"]).token_family
    assert RefreshToken.objects.get(token=second["refresh_token"]).token_family == family

    status, body = refresh(server, first["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    assert not RefreshToken.objects.filter(token_family=family, revoked__isnull=True).exists()
    assert not AccessToken.objects.filter(token_checksum=token_checksum(second["access_token"])).exists()
    assert refresh(server, second["refresh_token"])[0] == 400


def test_refresh_replay_within_the_grace_period_answers_the_same_tokens(server, password_app, settings):
    settings.OAUTH2_PROVIDER = {"REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 60}
    first = password_tokens(server)
    _, second = refresh(server, first["refresh_token"])
    _, again = refresh(server, first["refresh_token"])
    assert again["access_token"] == second["access_token"]
    assert again["refresh_token"] == second["refresh_token"]
    assert AccessToken.objects.count() == 1


def test_refresh_cannot_escalate_scope(server, password_app, user):
    first = password_tokens(server, scope="read")
    status, body = refresh(server, first["refresh_token"], scope="read write")
    assert (status, body["error"]) == (400, "invalid_scope")
    status, body = refresh(server, first["refresh_token"], scope="read")
    assert status == 200 and body["scope"] == "read"


def test_refresh_token_of_another_client(server, validator, password_app, public_app):
    first = password_tokens(server)
    request = oauthlib_request()
    assert validator.validate_refresh_token(first["refresh_token"], public_app, request) is False


@pytest.mark.parametrize("refresh_token", ["unknown", "nul\x00", ""])
def test_unknown_refresh_tokens(validator, password_app, refresh_token):
    assert validator.validate_refresh_token(refresh_token, password_app, oauthlib_request()) is False


@pytest.mark.parametrize(
    "garbage", ["nul\x00token", None, "", "x" * 100_000], ids=["nul", "none", "empty", "huge"]
)
@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token", "bogus"])
def test_revoking_garbage_is_quiet(validator, password_app, user, garbage, hint):
    access_token = AccessToken.objects.create(
        token="kept-access", user=user, application=password_app, expires=timezone.now() + timedelta(hours=1)
    )
    RefreshToken.objects.create(
        token="kept-refresh", user=user, application=password_app, access_token=access_token
    )

    # The request carries the tokens' own client, so the garbage really is looked up.
    validator.revoke_token(garbage, hint, oauthlib_request(client=password_app))

    assert AccessToken.objects.filter(pk=access_token.pk).exists()
    assert RefreshToken.objects.get(token="kept-refresh").revoked is None
    # The same call revokes a real value: the garbage was refused by value, not for the request.
    validator.revoke_token("kept-refresh", hint, oauthlib_request(client=password_app))
    assert RefreshToken.objects.get(token="kept-refresh").revoked is not None


# Token lookups by checksum


def test_bearer_token_lookup_is_one_query_on_the_checksum(validator, password_app, user):
    AccessToken.objects.create(
        token="the-access-token",
        user=user,
        application=password_app,
        scope="read",
        expires=timezone.now() + timedelta(hours=1),
    )
    request = oauthlib_request()
    with CaptureQueriesContext(connection) as queries:
        assert validator.validate_bearer_token("the-access-token", ["read"], request) is True
    assert len(queries) == 1
    sql = queries[0]["sql"]
    assert "token_checksum" in sql.split("WHERE", 1)[1]
    assert token_checksum("the-access-token") in sql
    assert "the-access-token" not in sql
    assert request.user == user and request.client == password_app


def test_access_token_revocation_looks_up_the_checksum(validator, password_app, user):
    AccessToken.objects.create(
        token="to-revoke", user=user, application=password_app, expires=timezone.now() + timedelta(hours=1)
    )
    with CaptureQueriesContext(connection) as queries:
        validator.revoke_token("to-revoke", "access_token", oauthlib_request(client=password_app))
    assert not AccessToken.objects.exists()
    lookup = queries[0]["sql"]
    assert token_checksum("to-revoke") in lookup and "to-revoke" not in lookup


# Remote introspection


@pytest.fixture
def introspection_settings(settings):
    settings.OAUTH2_PROVIDER = {
        "RESOURCE_SERVER_INTROSPECTION_URL": INTROSPECTION_URL,
        "RESOURCE_SERVER_AUTH_TOKEN": "rs-token",
    }


class FakeResponse:
    def __init__(self, status_code=200, payload=None, text=None, reason="OK"):
        self.status_code = status_code
        self.reason = reason
        self._payload = payload
        self._text = text

    def json(self):
        if self._text is not None:
            return json.loads(self._text)
        return self._payload


def active_answer(**extra):
    return {"active": True, "scope": "read", "username": "remote-user", **extra}


@pytest.mark.parametrize(
    "outcome",
    [
        requests.exceptions.ConnectionError("refused"),
        requests.exceptions.ReadTimeout("stalled"),
        FakeResponse(status_code=500, reason="Internal Server Error"),
        FakeResponse(status_code=401, reason="Unauthorized"),
        FakeResponse(text="<html>not json</html>"),
        FakeResponse(payload=["active", True]),
        FakeResponse(payload="active"),
        FakeResponse(payload={"active": "true", "scope": "read"}),
        FakeResponse(payload={"active": False}),
        FakeResponse(payload=active_answer(exp="tomorrow")),
        FakeResponse(payload=active_answer(exp=10**20)),
        FakeResponse(payload=active_answer(exp=float("nan"))),
        FakeResponse(payload=active_answer(scope=["read"])),
        FakeResponse(payload=active_answer(username=["root"])),
        FakeResponse(payload=active_answer(username="")),
        FakeResponse(payload=active_answer(username="nul\x00user")),
    ],
)
def test_failing_introspection_means_not_valid(validator, introspection_settings, mocker, outcome):
    if isinstance(outcome, Exception):
        post = mocker.patch("requests.post", side_effect=outcome)
    else:
        post = mocker.patch("requests.post", return_value=outcome)
    request = oauthlib_request()
    assert validator.validate_bearer_token("remote-token", ["read"], request) is False
    assert request.oauth2_error["error"] == "invalid_token"
    assert post.call_count == 1
    assert not AccessToken.objects.exists()


def test_introspection_call_has_a_timeout_and_authenticates(validator, introspection_settings, mocker):
    post = mocker.patch("requests.post", return_value=FakeResponse(payload=active_answer()))
    assert validator.validate_bearer_token("remote-token", ["read"], oauthlib_request()) is True
    (url,), kwargs = post.call_args
    assert url == INTROSPECTION_URL
    assert kwargs["data"] == {"token": "remote-token"}
    assert kwargs["headers"] == {"Authorization": "Bearer rs-token"}
    assert kwargs["timeout"] == 5  # RESOURCE_SERVER_INTROSPECTION_TIMEOUT_SECONDS, upstream's default


def test_introspection_with_basic_credentials(validator, settings, mocker):
    settings.OAUTH2_PROVIDER = {
        "RESOURCE_SERVER_INTROSPECTION_URL": INTROSPECTION_URL,
        "RESOURCE_SERVER_INTROSPECTION_CREDENTIALS": ("rs-id", "rs-secret"),
    }
    post = mocker.patch("requests.post", return_value=FakeResponse(payload={"active": True, "scope": "read"}))
    request = oauthlib_request()
    assert validator.validate_bearer_token("client-token", ["read"], request) is True
    expected = "Basic " + base64.b64encode(b"rs-id:rs-secret").decode()
    assert post.call_args.kwargs["headers"] == {"Authorization": expected}
    assert request.user is None


def test_introspected_token_is_cached_by_checksum(validator, introspection_settings, mocker):
    exp = int((timezone.now() + timedelta(minutes=5)).timestamp())
    post = mocker.patch("requests.post", return_value=FakeResponse(payload=active_answer(exp=exp)))
    assert validator.validate_bearer_token("remote-token", ["read"], oauthlib_request()) is True
    assert validator.validate_bearer_token("remote-token", ["read"], oauthlib_request()) is True
    assert post.call_count == 1
    cached = AccessToken.objects.get(token_checksum=token_checksum("remote-token"))
    assert cached.application is None and cached.user.username == "remote-user"
    assert int(cached.expires.timestamp()) == exp


@pytest.mark.parametrize("use_tz", [True, False])
def test_an_introspected_exp_is_read_in_utc_whatever_the_time_zone(
    validator, introspection_settings, mocker, settings, use_tz
):
    # Upstream #1594 (3.4.0): exp is seconds since the epoch, the same instant in every time zone.
    settings.TIME_ZONE, settings.USE_TZ = "Asia/Tokyo", use_tz
    exp = int((timezone.now() + timedelta(minutes=5)).timestamp()) if use_tz else int(time.time()) + 300
    post = mocker.patch("requests.post", return_value=FakeResponse(payload=active_answer(exp=exp)))

    assert validator.validate_bearer_token("remote-token", ["read"], oauthlib_request()) is True
    assert validator.validate_bearer_token("remote-token", ["read"], oauthlib_request()) is True

    # The cached copy lives five minutes, neither nine hours less (expired) nor nine hours more.
    assert post.call_count == 1
    cached = AccessToken.objects.get(token_checksum=token_checksum("remote-token"))
    assert timedelta(minutes=4) < cached.expires - timezone.now() <= timedelta(minutes=5)


def test_introspection_server_errors_are_logged(validator, introspection_settings, mocker, caplog):
    mocker.patch("requests.post", return_value=FakeResponse(status_code=404, reason="Not Found"))
    validator.validate_bearer_token("remote-token", ["read"], oauthlib_request())
    assert (
        "Introspection: Failed to get a valid response from authentication server. "
        "Status code: 404, Reason: Not Found." in caplog.messages
    )


class _IntrospectionHandler(BaseHTTPRequestHandler):
    """Answers like the server's ``behaviour`` says: "stall" (never, until released) or a JSON body,
    after ``delay`` seconds."""

    def do_POST(self):
        behaviour = self.server.behaviour
        if behaviour == "stall":
            self.server.release.wait(10)
            return
        self.server.release.wait(self.server.delay)
        body = json.dumps(behaviour).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def local_introspection_server(settings):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _IntrospectionHandler)
    httpd.release = threading.Event()
    httpd.delay = 0
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    settings.OAUTH2_PROVIDER = {
        "RESOURCE_SERVER_INTROSPECTION_URL": f"http://127.0.0.1:{httpd.server_address[1]}/introspect/",
        "RESOURCE_SERVER_AUTH_TOKEN": "rs-token",
    }
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()


def test_stalled_introspection_server_times_out(validator, local_introspection_server, settings):
    local_introspection_server.behaviour = "stall"
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "RESOURCE_SERVER_INTROSPECTION_TIMEOUT_SECONDS": 0.3,
    }
    assert validator.validate_bearer_token("remote-token", ["read"], oauthlib_request()) is False


# Upstream PR #1832 (master after 3.4.1): the timeout is the RESOURCE_SERVER_INTROSPECTION_TIMEOUT_SECONDS
# setting. An answer later than it counts as no answer, however positive.


def test_an_introspection_answer_later_than_the_timeout_setting_is_refused(
    validator, local_introspection_server, settings
):
    local_introspection_server.behaviour = active_answer()
    local_introspection_server.delay = 3
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "RESOURCE_SERVER_INTROSPECTION_TIMEOUT_SECONDS": 0.5,
    }
    request = oauthlib_request()
    assert validator.validate_bearer_token("remote-token", ["read"], request) is False
    assert request.oauth2_error["error"] == "invalid_token"


def test_live_introspection_server(validator, local_introspection_server):
    local_introspection_server.behaviour = active_answer()
    request = oauthlib_request()
    assert validator.validate_bearer_token("remote-token", ["read"], request) is True
    assert request.user.username == "remote-user"


def test_unreachable_introspection_server(validator, settings):
    settings.OAUTH2_PROVIDER = {
        # Port 9 (discard) on the loopback: nothing listens, the connection is refused at once.
        "RESOURCE_SERVER_INTROSPECTION_URL": "http://127.0.0.1:9/introspect/",
        "RESOURCE_SERVER_AUTH_TOKEN": "rs-token",
    }
    assert validator.validate_bearer_token("remote-token", ["read"], oauthlib_request()) is False


# ID tokens that are not ours


@pytest.fixture(scope="module")
def rsa_pem():
    return jwk.JWK.generate(kty="RSA", size=2048).export_to_pem(private_key=True, password=None).decode()


@pytest.fixture
def oidc_app(user, settings, rsa_pem):
    settings.OAUTH2_PROVIDER = {
        "OIDC_ENABLED": True,
        "OIDC_RSA_PRIVATE_KEY": rsa_pem,
        "OIDC_ISS_ENDPOINT": "https://server.example/o",
    }
    return Application.objects.create(
        client_id="oidc-client",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
        algorithm=Application.RS256_ALGORITHM,
        user=user,
    )


def signed(claims, key, alg="RS256"):
    token = jwt.JWT(header={"alg": alg}, claims=claims)
    token.make_signed_token(key)
    return token.serialize()


def stored_id_token(application, user):
    return IDToken.objects.create(
        application=application, user=user, scope="openid", expires=timezone.now() + timedelta(hours=1)
    )


def issued_with_access_token(id_token, expires_in=timedelta(hours=1)):
    """The access token the ID token was issued with: an ID token is a bearer only while it lives."""
    return AccessToken.objects.create(
        token="access-" + str(id_token.jti),
        id_token=id_token,
        application=id_token.application,
        user=id_token.user,
        scope=id_token.scope,
        expires=timezone.now() + expires_in,
    )


def test_id_token_signed_with_the_application_key_is_accepted(validator, oidc_app, user):
    id_token = stored_id_token(oidc_app, user)
    issued_with_access_token(id_token)
    token = signed({"aud": "oidc-client", "jti": str(id_token.jti)}, oidc_app.jwk_key)
    request = oauthlib_request()
    assert validator.validate_id_token(token, ["openid"], request) is True
    assert request.user == user


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        "a.b.c.d.e",
        "x" * 100_000,
        "eyJhbGciOiJub25lIn0.W10.",  # alg none, payload []
    ],
)
def test_malformed_id_tokens(validator, oidc_app, token):
    assert validator.validate_id_token(token, ["openid"], oauthlib_request()) is False


def test_id_token_with_alg_none(validator, oidc_app, user):
    id_token = stored_id_token(oidc_app, user)
    claims = {"aud": "oidc-client", "jti": str(id_token.jti)}
    unsigned = ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
        for part in ({"alg": "none"}, claims)
    )
    assert validator.validate_id_token(unsigned + ".", ["openid"], oauthlib_request()) is False


def test_id_token_signed_by_another_key(validator, oidc_app, user):
    id_token = stored_id_token(oidc_app, user)
    other_key = jwk.JWK.generate(kty="RSA", size=2048)
    token = signed({"aud": "oidc-client", "jti": str(id_token.jti)}, other_key)
    assert validator.validate_id_token(token, ["openid"], oauthlib_request()) is False


def test_id_token_hs256_signed_with_the_public_rsa_key(validator, oidc_app, user):
    id_token = stored_id_token(oidc_app, user)
    public_pem = oidc_app.jwk_key.export_to_pem()
    hmac_key = jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(public_pem).decode().rstrip("="))
    token = signed({"aud": "oidc-client", "jti": str(id_token.jti)}, hmac_key, alg="HS256")
    assert validator.validate_id_token(token, ["openid"], oauthlib_request()) is False


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "oidc-client"},  # no jti
        {"aud": "oidc-client", "jti": "not-a-uuid"},
        {"aud": "oidc-client", "jti": {"a": 1}},
        {"aud": 42, "jti": "x"},
        {"aud": {"client": "oidc-client"}},
        {"aud": ["nul\x00"] * 1000},
        {"aud": "no-oidc"},  # an application that signs nothing
    ],
)
def test_id_tokens_with_unusable_claims(validator, oidc_app, user, claims):
    Application.objects.create(
        client_id="no-oidc",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        user=user,
    )
    token = signed(claims, oidc_app.jwk_key)
    assert validator.validate_id_token(token, ["openid"], oauthlib_request()) is False


def test_expired_id_token(validator, oidc_app, user):
    id_token = stored_id_token(oidc_app, user)
    token = signed({"aud": "oidc-client", "jti": str(id_token.jti), "exp": 1_000_000}, oidc_app.jwk_key)
    assert validator.validate_id_token(token, ["openid"], oauthlib_request()) is False


def test_id_token_for_a_client_without_algorithm(validator, user, settings):
    settings.OAUTH2_PROVIDER = {"OIDC_ENABLED": True}
    plain = Application.objects.create(
        client_id="plain-oauth",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        user=user,
    )
    request = oauthlib_request(client=plain, user=user, scopes=["openid"])
    with pytest.raises(errors.InvalidScopeError):
        validator.finalize_id_token({"aud": "plain-oauth"}, {}, None, request)
    assert not IDToken.objects.exists()


def test_id_token_for_a_user_who_never_logged_in(validator, oidc_app, user):
    """``auth_time`` is required when the request asks for it (OpenID Connect Core 2): the authentication
    is happening now (upstream 3.4.1)."""
    request = oauthlib_request(client=oidc_app, user=user, scopes=["openid"], nonce="n-1")
    before = int(time.time())
    serialized = validator.finalize_id_token({"aud": "oidc-client"}, {}, None, request)
    claims = json.loads(jwt.JWT(key=oidc_app.jwk_key, jwt=serialized).claims)
    assert before <= claims["auth_time"] <= int(time.time())
    assert claims["nonce"] == "n-1" and claims["sub"] == str(user.pk)
    assert request.id_token == IDToken.objects.get(jti=claims["jti"])


# prompt=none


def test_silent_login(validator, user):
    assert validator.validate_silent_login(oauthlib_request(user=user)) is True
    assert validator.validate_silent_login(oauthlib_request()) is True


def test_silent_login_for_an_anonymous_user(validator):
    from django.contrib.auth.models import AnonymousUser

    assert validator.validate_silent_login(oauthlib_request(user=AnonymousUser())) is False


def test_silent_authorization_is_left_to_the_authorization_view(validator, confidential_app, user):
    """The view answers consent_required itself; oauthlib must not refuse what the view decided to grant."""
    assert validator.validate_silent_authorization(oauthlib_request(client=confidential_app)) is True
    request = oauthlib_request(client=confidential_app, user=user)
    assert validator.validate_silent_authorization(request) is True


# Secrets in Django's error reports: a traceback through the validator must not show them


MASK = SafeExceptionReporterFilter.cleansed_substitute


def reported_variables(raised):
    """``{function: {variable: value}}`` of the traceback of ``raised``, as Django's error report shows it."""
    reporter = ExceptionReporter(None, raised.type, raised.value, raised.tb)
    return {frame["function"]: dict(frame["vars"]) for frame in reporter.get_traceback_frames()}


@pytest.fixture
def broken_hasher(monkeypatch):
    def check_password(provided, stored):
        raise RuntimeError("hasher down")

    monkeypatch.setattr(oauth2_validators, "check_password", check_password)


@pytest.mark.usefixtures("broken_hasher")
def test_basic_auth_secret_is_hidden_from_error_reports(validator, confidential_app):
    request = oauthlib_request(headers=basic_header(f"conf-client:{quote_plus(SECRET)}".encode()))
    with pytest.raises(RuntimeError) as raised:
        validator.authenticate_client(request)

    reported = reported_variables(raised)
    assert reported["_authenticate_basic_auth"]["client_secret"] == MASK
    assert reported["_authenticate_basic_auth"]["encoded"] == MASK
    assert reported["_authenticate_basic_auth"]["credentials"] == MASK
    assert reported["_check_secret"]["provided_secret"] == MASK
    assert reported["_check_secret"]["stored_secret"] == MASK


@pytest.mark.usefixtures("broken_hasher")
def test_body_auth_secret_is_hidden_from_error_reports(validator, confidential_app):
    with pytest.raises(RuntimeError) as raised:
        validator.authenticate_client(oauthlib_request(client_id="conf-client", client_secret=SECRET))

    reported = reported_variables(raised)
    assert reported["_authenticate_request_body"]["client_secret"] == MASK
    assert reported["_check_secret"]["provided_secret"] == MASK


def test_decoded_basic_credentials_are_hidden_from_error_reports(validator, confidential_app, monkeypatch):
    def unquote_plus(value):
        raise RuntimeError("decoder down")

    monkeypatch.setattr(_request_values, "unquote_plus", unquote_plus)
    request = oauthlib_request(headers=basic_header(f"conf-client:{quote_plus(SECRET)}".encode()))
    with pytest.raises(RuntimeError) as raised:
        validator.authenticate_client(request)

    decoding = reported_variables(raised)["decode_basic_credentials"]
    assert decoding["encoded"] == decoding["decoded"] == decoding["client_secret"] == MASK


def test_resource_owner_password_is_hidden_from_error_reports(validator, password_app, monkeypatch):
    def authenticate(request, username, password):
        raise RuntimeError("directory down")

    monkeypatch.setattr(oauth2_validators, "authenticate", authenticate)
    request = oauthlib_request(http_method="POST", decoded_body=[])
    with pytest.raises(RuntimeError) as raised:
        validator.validate_user("alice", "correct horse", password_app, request)

    assert reported_variables(raised)["validate_user"]["password"] == MASK


def test_hs256_key_secret_is_hidden_from_error_reports(oidc_app, monkeypatch):
    def base64url_encode(value):
        raise RuntimeError("encoder down")

    monkeypatch.setattr(oauth2_validators, "base64url_encode", base64url_encode)
    request = oauthlib_request(client=oidc_app)
    oauth2_validators._remember_authenticated_secret(request, "x" * 40)
    with pytest.raises(RuntimeError) as raised:
        oauth2_validators._hs256_key(request)

    reported = reported_variables(raised)["_hs256_key"]
    assert reported["secret"] == reported["stored_secret"] == MASK
