"""Upstream fixes of DOT 3.1.0 to 3.4.1 that live in the validator and the token endpoints.

Each section names the upstream issue it proves fixed here. The tests of a backported fix fail on the code
before it; those of fixes the rewrite carried already (#1630, #1496) keep them from regressing. Requests
go through the real URLs under /o/, the way a client sends them, except where a race or a direct call to
the validator is the point.
"""

import base64
import json
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from jwcrypto import jwk, jws, jwt
from jwcrypto.common import base64url_encode
from oauthlib.openid.connect.core import grant_types as oidc_grant_types
from oauthlib.openid.connect.core.endpoints import pre_configured as oidc_pre_configured

from oauth2_provider._checksum import token_checksum
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_id_token_model,
    get_refresh_token_model,
)
from oauth2_provider.oauth2_backends import OAuthLibCore
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.views.mixins import OAuthLibMixin
from tests.flow_helpers import (
    CLIENT_SECRET,
    FLOW_URLS,
    access_token_row,
    assert_oauth_error,
    authorization_params,
    authorize_url,
    basic_auth,
    exchange_code,
    issued_tokens,
    obtain_code,
    post_token,
    refresh,
    refresh_token_row,
    revoke,
)


pytestmark = [pytest.mark.urls(FLOW_URLS), pytest.mark.django_db]

Application = get_application_model()
AccessToken = get_access_token_model()
IDToken = get_id_token_model()
RefreshToken = get_refresh_token_model()

SCOPES = {"openid": "OpenID Connect", "read": "Reading", "write": "Writing"}
# RFC 7518 section 3.2: an HS256 key has at least 256 bits. The shared CLIENT_SECRET is shorter.
HS256_SECRET = "a-client-secret-long-enough-to-be-an-hs256-key"


def _view_classes(cls=OAuthLibMixin):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _view_classes(subclass)


@pytest.fixture(autouse=True)
def no_cached_oauthlib_core():
    """Views keep the oauthlib server they built on their class: none built here may outlive the test.

    Some tests change the validator class or switch OpenID Connect on (with ALWAYS_RELOAD_OAUTHLIB_CORE).
    """
    yield
    for view_class in _view_classes():
        if "_oauthlib_core" in vars(view_class):
            del view_class._oauthlib_core


# Upstream #1252 (3.2.0): a `client` parameter in the request crashed client authentication


@pytest.mark.parametrize("value", ["x", "", "{}", "<the other client's id>"])
def test_client_parameter_in_a_token_request_is_ignored(client, service_app, make_app, value):
    other = make_app("other", authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS, redirect_uris="")
    value = other.client_id if value == "<the other client's id>" else value
    data = {"grant_type": "client_credentials", "client": value}

    response = post_token(client, data, basic_auth(service_app.client_id, CLIENT_SECRET))

    assert response.status_code == 200, response.content
    # The token belongs to the client that authenticated, never to the one the parameter names.
    assert access_token_row(response.json()["access_token"]).application == service_app


def test_client_parameter_with_credentials_in_the_body(client, service_app):
    data = {
        "grant_type": "client_credentials",
        "client": "x",
        "client_id": service_app.client_id,
        "client_secret": CLIENT_SECRET,
    }
    assert post_token(client, data).status_code == 200


def test_client_parameter_with_a_wrong_secret_is_invalid_client(client, service_app):
    data = {"grant_type": "client_credentials", "client": service_app.client_id}
    response = post_token(client, data, basic_auth(service_app.client_id, "wrong"))
    assert_oauth_error(response, 401, "invalid_client")


def test_client_parameter_in_an_authorization_request_is_ignored(signed_in_client, code_app, without_pkce):
    response = signed_in_client.get(authorize_url(authorization_params(code_app, client="x")))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("endpoint", ["oauth2_provider:revoke-token", "oauth2_provider:introspect"])
def test_client_parameter_on_revocation_and_introspection(client, service_app, endpoint):
    data = {"token": "no-such-token", "client": "x"}
    response = client.post(reverse(endpoint), data, **basic_auth(service_app.client_id, CLIENT_SECRET))
    assert response.status_code == 200, response.content


# Upstream #727 (3.4.1): the revocation endpoint revoked the tokens of any client


@pytest.fixture
def victim_tokens(signed_in_client, code_app, without_pkce):
    return issued_tokens(signed_in_client, code_app)


@pytest.fixture
def intruder(make_app):
    return make_app("intruder")


@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token", "bogus"])
def test_a_client_cannot_revoke_another_clients_token(client, code_app, victim_tokens, intruder, kind, hint):
    response = revoke(client, intruder, victim_tokens[kind], hint)

    # RFC 7009 section 2.2: the answer says nothing about the token.
    assert response.status_code == 200
    assert access_token_row(victim_tokens["access_token"]) is not None
    assert refresh_token_row(victim_tokens["refresh_token"]).revoked is None
    assert refresh(client, code_app, victim_tokens["refresh_token"]).status_code == 200


def test_a_public_client_cannot_revoke_another_clients_token(client, victim_tokens, make_app):
    public = make_app("public intruder", client_type=Application.CLIENT_PUBLIC)
    data = {"token": victim_tokens["access_token"], "client_id": public.client_id}
    assert client.post(reverse("oauth2_provider:revoke-token"), data).status_code == 200
    assert access_token_row(victim_tokens["access_token"]) is not None


def test_a_wrong_secret_revokes_nothing(client, code_app, victim_tokens):
    response = revoke(client, code_app, victim_tokens["access_token"], secret="wrong")
    assert_oauth_error(response, 401, "invalid_client")
    assert access_token_row(victim_tokens["access_token"]) is not None


@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
def test_a_client_still_revokes_its_own_tokens(client, code_app, victim_tokens, kind):
    assert revoke(client, code_app, victim_tokens[kind]).status_code == 200
    assert access_token_row(victim_tokens["access_token"]) is None


@pytest.mark.parametrize("request_client", [None, "a client id as text"])
def test_revocation_without_an_application_revokes_nothing(victim_tokens, code_app, request_client):
    """oauthlib always authenticates the client first; a direct call without one must not guess."""
    request = SimpleNamespace(client=request_client)
    for kind in ("access_token", "refresh_token"):
        OAuth2Validator().revoke_token(victim_tokens[kind], None, request)
    assert access_token_row(victim_tokens["access_token"]) is not None
    assert refresh_token_row(victim_tokens["refresh_token"]).revoked is None


# Upstream #1816 (3.4.1): a refresh token revoked on purpose was honoured in the grace period


@pytest.fixture
def grace_period(provider_settings):
    provider_settings(REFRESH_TOKEN_GRACE_PERIOD_SECONDS=120)


@pytest.mark.parametrize("rotate", [True, False], ids=["rotating", "not rotating"])
@pytest.mark.parametrize("hint", [None, "refresh_token"])
def test_refresh_token_revoked_at_the_endpoint_is_dead_in_the_grace_period(
    client, code_app, victim_tokens, grace_period, provider_settings, rotate, hint
):
    provider_settings(ROTATE_REFRESH_TOKEN=rotate)
    assert revoke(client, code_app, victim_tokens["refresh_token"], hint).status_code == 200

    response = refresh(client, code_app, victim_tokens["refresh_token"])

    assert_oauth_error(response, 400, "invalid_grant")
    # Nothing was issued, and the revoked value did not come back as a live row.
    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()


def test_refresh_token_revoked_through_the_model_is_dead_in_the_grace_period(
    client, code_app, victim_tokens, grace_period
):
    """``RefreshToken.revoke()`` is what logout, the admin and the authorized-tokens page call."""
    refresh_token_row(victim_tokens["refresh_token"]).revoke()
    assert_oauth_error(refresh(client, code_app, victim_tokens["refresh_token"]), 400, "invalid_grant")


def test_replaying_a_revoked_token_with_reuse_protection_keeps_the_family_revoked(
    client, code_app, victim_tokens, grace_period, provider_settings
):
    provider_settings(REFRESH_TOKEN_REUSE_PROTECTION=True)
    family = refresh_token_row(victim_tokens["refresh_token"]).token_family
    revoke(client, code_app, victim_tokens["refresh_token"])

    assert_oauth_error(refresh(client, code_app, victim_tokens["refresh_token"]), 400, "invalid_grant")
    assert not RefreshToken.objects.filter(token_family=family, revoked__isnull=True).exists()


class RevokedMidwayValidator(OAuth2Validator):
    """The refresh token gets revoked after it was read and before it is locked: by a concurrent request
    that commits in between, in real life. Once the refresh has locked it, a concurrent revocation waits
    until the refresh is over (issue 26; tests/test_refresh_race_lts.py races it for real)."""

    def _lock_live_refresh_token(self, refresh_token):
        for row in RefreshToken.objects.filter(pk=refresh_token.pk, revoked__isnull=True):
            row.revoke()
        return super()._lock_live_refresh_token(refresh_token)


def test_refresh_token_revoked_between_validation_and_rotation_is_refused(
    client, code_app, victim_tokens, grace_period, provider_settings
):
    """Refused, and nothing issued: the revocation stands, as a concurrent one would.

    The refusal comes while the token is validated, so the revocation (made inside the refresh's own
    transaction here) is kept: the victim's access token went with its refresh token, and no new one exists.
    """
    provider_settings(
        OAUTH2_VALIDATOR_CLASS=f"{__name__}.RevokedMidwayValidator", ALWAYS_RELOAD_OAUTHLIB_CORE=True
    )
    assert_oauth_error(refresh(client, code_app, victim_tokens["refresh_token"]), 400, "invalid_grant")
    assert not AccessToken.objects.exists()
    [(token, revoked)] = RefreshToken.objects.values_list("token", "revoked")
    assert token == victim_tokens["refresh_token"] and revoked is not None


def test_retry_after_a_lost_answer_still_gets_that_answer(client, code_app, victim_tokens, grace_period):
    """What the grace period is for: the client never received the rotated tokens and retries."""
    first = refresh(client, code_app, victim_tokens["refresh_token"]).json()
    retry = refresh(client, code_app, victim_tokens["refresh_token"])
    assert retry.status_code == 200
    assert (retry.json()["access_token"], retry.json()["refresh_token"]) == (
        first["access_token"],
        first["refresh_token"],
    )


def test_grace_period_ends_when_the_replacement_is_revoked(client, code_app, victim_tokens, grace_period):
    first = refresh(client, code_app, victim_tokens["refresh_token"]).json()
    revoke(client, code_app, first["refresh_token"])
    assert_oauth_error(refresh(client, code_app, victim_tokens["refresh_token"]), 400, "invalid_grant")


# Upstream #1617 (3.4.1): the grace period shielded tokens older than the immediately preceding one


@pytest.mark.parametrize("reuse_protection", [True, False], ids=["reuse protection", "no reuse protection"])
def test_grace_period_covers_only_the_immediately_preceding_refresh_token(
    client, code_app, victim_tokens, grace_period, provider_settings, reuse_protection
):
    provider_settings(REFRESH_TOKEN_REUSE_PROTECTION=reuse_protection)
    r1 = victim_tokens["refresh_token"]
    r2 = refresh(client, code_app, r1).json()["refresh_token"]
    third = refresh(client, code_app, r2).json()

    # r2 precedes the live r3: its retry is answered with what its lost answer held.
    retry = refresh(client, code_app, r2)
    assert retry.status_code == 200 and retry.json()["refresh_token"] == third["refresh_token"]

    # r1 is two rotations old: refused, with or without a scope (without one, DOT 3.0.1 issued new tokens).
    assert_oauth_error(refresh(client, code_app, r1), 400, "invalid_grant")
    assert_oauth_error(refresh(client, code_app, r1, scope="read"), 400, "invalid_grant")
    assert RefreshToken.objects.filter(token__in=[r1, r2]).count() == 2  # no row was issued for them

    latest = refresh(client, code_app, third["refresh_token"])
    if reuse_protection:
        # The replay of r1 revoked the family: whoever holds r3 must authenticate again.
        assert_oauth_error(latest, 400, "invalid_grant")
    else:
        assert latest.status_code == 200


# Upstream #1737 (3.4.0): HS256 ID tokens were signed with the hashed client secret


@pytest.fixture
def oidc(provider_settings, without_pkce):
    provider_settings(OIDC_ENABLED=True, SCOPES=SCOPES, ALWAYS_RELOAD_OAUTHLIB_CORE=True)


def hmac_key(secret):
    """The key a relying party verifies HS256 ID tokens with: the UTF-8 octets of its client secret."""
    return jwk.JWK(kty="oct", k=base64url_encode(secret))


def verified_claims(id_token, key):
    return json.loads(jwt.JWT(jwt=id_token, key=key).claims)


def hs256_app(make_app, secret=HS256_SECRET, **fields):
    """A confidential code client signing with HS256, its secret stored hashed unless ``fields`` say."""
    return make_app(
        "hmac relying party", algorithm=Application.HS256_ALGORITHM, client_secret=secret, **fields
    )


@pytest.mark.parametrize("authentication", ["basic", "body"])
def test_hs256_id_token_verifies_with_the_cleartext_secret(signed_in_client, make_app, oidc, authentication):
    app = hs256_app(make_app)
    code = obtain_code(signed_in_client, app, scope="openid read")
    if authentication == "basic":
        response = exchange_code(signed_in_client, app, code, secret=HS256_SECRET)
    else:
        response = exchange_code(signed_in_client, app, code, secret=None, client_secret=HS256_SECRET)
    assert response.status_code == 200, response.content
    tokens = response.json()

    claims = verified_claims(tokens["id_token"], hmac_key(HS256_SECRET))
    assert claims["aud"] == app.client_id
    # What DOT 3.0.1 signed with, the stored hash, is not the key; the application offers no key at all.
    with pytest.raises(jws.InvalidJWSSignature):
        verified_claims(tokens["id_token"], hmac_key(app.client_secret))
    with pytest.raises(ImproperlyConfigured):
        _ = app.jwk_key
    # The access token is linked to the ID token issued with it.
    assert str(access_token_row(tokens["access_token"]).id_token.jti) == claims["jti"]


# Whether oauthlib's OpenID Connect server issues ID tokens on refresh (its OpenID refresh grant).
OIDC_SERVER_REFRESHES_ID_TOKENS = oidc_pre_configured.RefreshTokenGrant is oidc_grant_types.RefreshTokenGrant


def test_hs256_id_token_of_a_refresh_verifies_with_the_cleartext_secret(signed_in_client, make_app, oidc):
    app = hs256_app(make_app)
    code = obtain_code(signed_in_client, app, scope="openid read")
    tokens = exchange_code(signed_in_client, app, code, secret=HS256_SECRET).json()
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}

    response = post_token(signed_in_client, data, basic_auth(app.client_id, HS256_SECRET))

    assert response.status_code == 200, response.content
    renewed = response.json()
    if not OIDC_SERVER_REFRESHES_ID_TOKENS:
        # oauthlib before 3.3 answers a refresh with the OAuth2 grant: no ID token to sign.
        assert "id_token" not in renewed
        return
    claims = verified_claims(renewed["id_token"], hmac_key(HS256_SECRET))
    assert str(access_token_row(renewed["access_token"]).id_token.jti) == claims["jti"]


def test_hs256_with_an_unhashed_secret_is_unchanged(signed_in_client, make_app, oidc):
    app = hs256_app(make_app, hash_client_secret=False)
    code = obtain_code(signed_in_client, app, scope="openid")
    tokens = exchange_code(signed_in_client, app, code, secret=HS256_SECRET).json()

    verified_claims(tokens["id_token"], hmac_key(HS256_SECRET))
    # The server keeps the same secret: it verifies the token too.
    assert OAuth2Validator()._load_id_token(tokens["id_token"]) is not None


@pytest.mark.parametrize("hashed", [True, False], ids=["hashed", "unhashed"])
def test_hs256_client_that_does_not_authenticate_gets_no_id_token(signed_in_client, make_app, oidc, hashed):
    """A public client with HS256 (``clean()`` refuses it, the database may hold it).

    Hashed, there is no secret to sign with: DOT 3.0.1 signed with the hash, a token nobody can verify.
    Unhashed, the stored secret still signs, as in DOT 3.0.1.
    """
    app = hs256_app(make_app, client_type=Application.CLIENT_PUBLIC, hash_client_secret=hashed)
    code = obtain_code(signed_in_client, app, scope="openid")

    response = exchange_code(signed_in_client, app, code, secret=None)

    if hashed:
        assert_oauth_error(response, 400, "invalid_scope")
        assert not AccessToken.objects.exists() and not IDToken.objects.exists()
    else:
        verified_claims(response.json()["id_token"], hmac_key(HS256_SECRET))


@pytest.mark.parametrize("hashed", [True, False], ids=["hashed", "unhashed"])
@pytest.mark.parametrize(
    "secret, sent, status, error",
    [
        # No secret is no client authentication (issue 26): refused before any key is chosen.
        ("", {}, 401, "invalid_client"),
        ("", {"client_secret": ""}, 401, "invalid_client"),
        ("x" * 31, {"client_secret": "x" * 31}, 400, "invalid_scope"),
    ],
    ids=["empty, none sent", "empty, empty sent", "31 bytes"],
)
def test_hs256_never_signs_with_a_short_key(
    signed_in_client, make_app, oidc, hashed, secret, sent, status, error
):
    """An empty or short HMAC key lets anybody forge ID tokens (RFC 7518 section 3.2 wants 256 bits).

    A client with a short secret authenticates correctly: only the key is refused, with an OAuth2 error,
    not a crash.
    """
    app = hs256_app(make_app, secret=secret, hash_client_secret=hashed)
    code = obtain_code(signed_in_client, app, scope="openid")

    response = exchange_code(signed_in_client, app, code, secret=None, **sent)

    assert_oauth_error(response, status, error)
    assert not IDToken.objects.exists()


def test_refused_hs256_signing_tells_the_operator_why(signed_in_client, make_app, oidc, caplog):
    app = hs256_app(make_app, client_type=Application.CLIENT_PUBLIC)
    code = obtain_code(signed_in_client, app, scope="openid")
    with caplog.at_level(logging.WARNING, logger="oauth2_provider"):
        exchange_code(signed_in_client, app, code, secret=None)
    assert any(
        app.client_id in message and "hash_client_secret=False" in message for message in caplog.messages
    )


def test_rs256_clients_are_unaffected(signed_in_client, make_app, provider_settings, oidc):
    private_key = jwk.JWK.generate(kty="RSA", size=2048)
    provider_settings(
        OIDC_RSA_PRIVATE_KEY=private_key.export_to_pem(private_key=True, password=None).decode()
    )
    app = make_app("rsa rp", algorithm=Application.RS256_ALGORITHM)
    tokens = issued_tokens(signed_in_client, app, scope="openid")
    public_key = jwk.JWK.from_json(private_key.export_public())
    claims = verified_claims(tokens["id_token"], public_key)
    assert str(access_token_row(tokens["access_token"]).id_token.jti) == claims["jti"]


# Upstream #1735 (3.4.0): client secrets written to the logs


def leaked_fragments(raw_credentials, *values):
    """What must not appear in a log line: the values, the Basic header, each non-ASCII byte as hex."""
    encoded = base64.b64encode(raw_credentials).decode("ascii")
    bytes_as_hex = [f"{byte:#x}" for byte in raw_credentials if byte > 0x7F]
    return [encoded, *bytes_as_hex, *values]


def logged_text(records):
    """Every log record of this package in full, formatted with its traceback if it has one.

    oauthlib's own DEBUG records are oauthlib's business (it logs refresh tokens, for one): a project
    keeps the ``oauthlib`` logger above DEBUG in production.
    """
    formatter = logging.Formatter("%(message)s")
    return [formatter.format(record) for record in records if record.name.startswith("oauth2_provider")]


def assert_not_logged(caplog, fragments):
    for text in logged_text(caplog.records):
        for fragment in fragments:
            assert fragment not in text, f"{fragment!r} logged: {text!r}"


SECRET_LIKE = "wr0ng-s3cret-é"


@pytest.mark.parametrize(
    "raw_credentials",
    [
        f"{{client_id}}:{SECRET_LIKE}".encode(),
        b"{client_id}:geheim\xe4\xff",  # not UTF-8: a decoding error quotes the offending byte
        b"{client_id}" + SECRET_LIKE.encode(),  # no colon
        b"unknown-client:" + SECRET_LIKE.encode(),
    ],
    ids=["wrong secret", "undecodable secret", "no colon", "unknown client"],
)
def test_failed_basic_authentication_logs_no_credentials(client, service_app, caplog, raw_credentials):
    raw_credentials = raw_credentials.replace(b"{client_id}", service_app.client_id.encode())
    header = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(raw_credentials).decode("ascii")}

    with caplog.at_level(logging.DEBUG):
        response = post_token(client, {"grant_type": "client_credentials"}, header)

    assert_oauth_error(response, 401, "invalid_client")
    secret_part = raw_credentials.partition(b":")[2].decode("latin-1")
    assert_not_logged(
        caplog, leaked_fragments(raw_credentials, SECRET_LIKE, *([secret_part] if secret_part else []))
    )


def test_failed_body_authentication_logs_no_secret(client, service_app, caplog):
    data = {
        "grant_type": "client_credentials",
        "client_id": service_app.client_id,
        "client_secret": SECRET_LIKE,
    }
    with caplog.at_level(logging.DEBUG):
        assert_oauth_error(post_token(client, data), 401, "invalid_client")
    assert_not_logged(caplog, [SECRET_LIKE])


def test_token_endpoint_failures_log_no_token_or_code(
    client, signed_in_client, code_app, intruder, without_pkce, provider_settings, caplog, mocker
):
    tokens = issued_tokens(signed_in_client, code_app)
    code = obtain_code(signed_in_client, code_app)
    provider_settings(
        RESOURCE_SERVER_INTROSPECTION_URL="http://introspection.invalid/",
        RESOURCE_SERVER_AUTH_TOKEN="resource-server-bearer-token",
    )
    introspection = mocker.patch(
        "requests.post", side_effect=requests.exceptions.ConnectionError("no network in tests")
    )
    unknown_bearer = "an-unknown-bearer-token-value"

    # Each call fails the way it is meant to, so that the log check below covers that failure path.
    with caplog.at_level(logging.DEBUG, logger="oauth2_provider"):
        assert_oauth_error(
            exchange_code(client, code_app, code, redirect_uri="https://elsewhere.example/"),
            400,
            "invalid_request",
        )
        assert_oauth_error(exchange_code(client, code_app, code, secret="wrong"), 401, "invalid_client")
        assert_oauth_error(refresh(client, code_app, "not-" + tokens["refresh_token"]), 400, "invalid_grant")
        # RFC 7009 section 2.2: another client's token is answered like an unknown one, and left alone.
        assert revoke(client, intruder, tokens["access_token"]).status_code == 200
        assert revoke(client, intruder, tokens["refresh_token"]).status_code == 200
        assert OAuth2Validator().validate_bearer_token(unknown_bearer, ["read"], SimpleNamespace()) is False

    assert access_token_row(tokens["access_token"]) is not None
    assert refresh_token_row(tokens["refresh_token"]).revoked is None
    assert introspection.call_count == 1

    assert_not_logged(
        caplog,
        [
            code,
            tokens["access_token"],
            tokens["refresh_token"],
            unknown_bearer,
            "resource-server-bearer-token",
            CLIENT_SECRET,
        ],
    )


# Upstream #1630 (3.2.0): the remote-introspection path looked the token up by its value


def test_introspected_token_is_looked_up_and_updated_by_checksum_only(provider_settings, mocker):
    provider_settings(
        RESOURCE_SERVER_INTROSPECTION_URL="http://introspection.invalid/",
        RESOURCE_SERVER_AUTH_TOKEN="resource-server-bearer-token",
    )
    remote_token = "a-token-of-the-remote-authorization-server"
    # A copy cached by an earlier introspection, expired since.
    AccessToken.objects.create(
        token=remote_token, scope="read", expires=timezone.now() - timedelta(minutes=1)
    )
    answer = mocker.Mock(status_code=200)
    answer.json.return_value = {"active": True, "scope": "read write"}
    mocker.patch("requests.post", return_value=answer)

    with CaptureQueriesContext(connection) as queries:
        assert OAuth2Validator().validate_bearer_token(remote_token, ["write"], SimpleNamespace()) is True

    conditions = [query["sql"].split("WHERE", 1)[1] for query in queries if "WHERE" in query["sql"]]
    assert not [condition for condition in conditions if remote_token in condition]
    # The local lookup before asking, and the one that finds the cached copy to update.
    assert len([condition for condition in conditions if token_checksum(remote_token) in condition]) == 2
    cached = AccessToken.objects.get()
    assert cached.scope == "read write" and not cached.is_expired()


# Upstream #1496 (3.2.0): an empty token after `Bearer` (validator side; the resource server side is
# tests/test_resource_server_lts.py, HOSTILE_HEADERS "scheme only", "scheme and spaces", "scheme and tab")


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer    ", "Bearer\t", "bearer "])
def test_empty_bearer_token_is_refused_without_a_lookup(rf, provider_settings, mocker, header):
    provider_settings(
        RESOURCE_SERVER_INTROSPECTION_URL="http://introspection.invalid/",
        RESOURCE_SERVER_AUTH_TOKEN="resource-server-bearer-token",
    )
    post = mocker.patch("requests.post")
    django_request = rf.get("/resource/", HTTP_AUTHORIZATION=header)

    with CaptureQueriesContext(connection) as queries:
        valid, oauthlib_request = OAuthLibCore().verify_request(django_request, scopes=["read"])

    assert valid is False
    assert getattr(oauthlib_request, "access_token", None) is None
    assert len(queries) == 0 and post.call_count == 0


@pytest.mark.parametrize("token", ["", None])
def test_validator_refuses_an_empty_bearer_token(token):
    with CaptureQueriesContext(connection) as queries:
        assert OAuth2Validator().validate_bearer_token(token, ["read"], SimpleNamespace()) is False
    assert len(queries) == 0


# Upstream #1816 (PR #1817): 3.0.1's (token, revoked) uniqueness lets live refresh tokens share a value.
# Without changing the schema, none is issued twice and a value two live rows share is refused.


def repeating_refresh_token_generator(request):
    """A broken REFRESH_TOKEN_GENERATOR: the same value every time."""
    return "the-same-refresh-token-every-time"


def test_a_refresh_token_value_already_stored_is_not_issued_again(
    client, code_app, signed_in_client, without_pkce, provider_settings, caplog
):
    provider_settings(
        REFRESH_TOKEN_GENERATOR="tests.test_backports_validator.repeating_refresh_token_generator",
        ALWAYS_RELOAD_OAUTHLIB_CORE=True,
    )
    first = issued_tokens(signed_in_client, code_app)
    assert first["refresh_token"] == "the-same-refresh-token-every-time"

    again = exchange_code(client, code_app, obtain_code(signed_in_client, code_app))

    assert_oauth_error(again, 400, "invalid_grant")
    assert RefreshToken.objects.filter(token=first["refresh_token"]).count() == 1
    assert AccessToken.objects.count() == 1
    assert "value of a live refresh token" in caplog.text and first["refresh_token"] not in caplog.text


def test_a_value_two_live_refresh_tokens_share_is_refused(client, code_app, signed_in_client, without_pkce):
    tokens = issued_tokens(signed_in_client, code_app)
    live = refresh_token_row(tokens["refresh_token"])
    # As a project could have stored them before issuing refused duplicates, each with its access token.
    other_access_token = AccessToken.objects.create(
        user=live.user,
        application=live.application,
        token="another-access-token",
        expires=live.access_token.expires,
        scope=live.access_token.scope,
    )
    RefreshToken.objects.create(
        user=live.user, application=live.application, token=live.token, access_token=other_access_token
    )

    assert_oauth_error(refresh(client, code_app, tokens["refresh_token"]), 400, "invalid_grant")
    assert RefreshToken.objects.filter(token=live.token, revoked__isnull=True).count() == 2
    assert AccessToken.objects.filter(pk=live.access_token_id).exists()
