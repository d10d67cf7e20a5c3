"""Attacks beyond every DOT release (issue 18), each driven through the real views as an attacker would.

1. The owner of an HS256 application signs the ``jti`` of another application's ID token with its own
   secret and uses it as a bearer token, or revives an expired ID token by re-signing it with a new ``exp``.
2. Whoever reads an application's stored secret hash signs ID tokens with the hash as HMAC key.
3. Client Y authenticates with HTTP Basic and names client X in ``client_id`` to get an ID token for X.
4. PKCE downgrade: a ``code_verifier`` for a code issued without ``code_challenge`` (RFC 9700 2.1.1).

Each attack has a control beside it, the legitimate request that is still served, so that a refusal means
the attack was recognised and not that the set-up was broken.
"""

import json
import logging
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user
from django.core import checks
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone
from jwcrypto import jwk, jwt
from jwcrypto.common import base64url_encode

from oauth2_provider.models import get_access_token_model, get_application_model, get_id_token_model
from oauth2_provider.views.generic import ProtectedResourceView

from .flow_helpers import (
    REDIRECT_URI,
    assert_oauth_error,
    basic_auth,
    exchange_code,
    obtain_code,
    pkce_pair,
    post_token,
    rsa_pem,
)


class Api(ProtectedResourceView):
    def get(self, request):
        return HttpResponse(f"hello {request.resource_owner.username}")


urlpatterns = [path("o/", include("oauth2_provider.urls")), path("api/", Api.as_view())]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

AccessToken = get_access_token_model()
Application = get_application_model()
IDToken = get_id_token_model()

ISSUER = "https://id.example.com/o"
VICTIM_SECRET = "victim-application-secret-long-enough-for-hs256"
ATTACKER_SECRET = "attacker-application-secret-long-enough-for-hs256"


@pytest.fixture
def oidc(provider_settings):
    provider_settings(
        OIDC_ENABLED=True,
        OIDC_ISS_ENDPOINT=ISSUER,
        OIDC_RSA_PRIVATE_KEY=rsa_pem(),
        OIDC_RP_INITIATED_LOGOUT_ENABLED=True,
        OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT=False,
        SCOPES={"openid": "OpenID Connect", "read": "Reading"},
        PKCE_REQUIRED=False,
        ALWAYS_RELOAD_OAUTHLIB_CORE=True,
    )


@pytest.fixture
def victim_app(oidc, make_app):
    """Application A, where alice signs in (RS256: its tokens are signed with the provider's key)."""
    return make_app("victim", algorithm=Application.RS256_ALGORITHM, client_secret=VICTIM_SECRET)


@pytest.fixture
def attacker_app(oidc, make_app):
    """Application B, owned by the attacker, HS256 with its secret kept in clear (so B has a key)."""
    return make_app(
        "attacker",
        algorithm=Application.HS256_ALGORITHM,
        client_secret=ATTACKER_SECRET,
        hash_client_secret=False,
    )


def hmac_key(secret):
    return jwk.JWK(kty="oct", k=base64url_encode(secret))


def forge(claims, key, alg="HS256"):
    token = jwt.JWT(header={"alg": alg, "typ": "JWT"}, claims=claims)
    token.make_signed_token(key)
    return token.serialize()


def unverified_claims(id_token):
    return json.loads(jwt.JWT(jwt=id_token).token.objects["payload"])


def tokens_for(browser, app, secret, scope="openid read"):
    """The token endpoint's answer after ``browser``'s user granted ``app`` a code."""
    response = exchange_code(browser, app, obtain_code(browser, app, scope=scope), secret=secret)
    assert response.status_code == 200, response.content
    return response.json()


def call_api(token):
    """GET the protected view with ``token`` as bearer: 200 if it is accepted, else 403 (its refusal)."""
    return Client().get("/api/", HTTP_AUTHORIZATION=f"Bearer {token}")


def later(seconds=10 * 365 * 24 * 3600):
    return int(time.time()) + seconds


def logout_with_hint(browser, hint):
    return browser.get(reverse("oauth2_provider:rp-initiated-logout"), {"id_token_hint": hint})


def assert_hint_refused(response, browser):
    assert response.status_code == 400
    assert response.context["error"].error == "invalid_request"
    assert get_user(browser).is_authenticated


# 1. An ID token verified with one application's key is only ever that application's own ID token


def test_own_live_id_token_is_a_bearer_token(signed_in_client, attacker_app):
    # The control: an ID token issued to B, by B's key, still calls the API as its user.
    tokens = tokens_for(signed_in_client, attacker_app, ATTACKER_SECRET)

    response = call_api(tokens["id_token"])

    assert response.status_code == 200
    assert response.content.decode() == "hello alice"


# The attacker's application is registered first, so that DOT 3.0.1's first-match lookup of a list
# audience picks its key.
@pytest.mark.parametrize("listed", [False, True], ids=["aud a string", "aud a list"])
def test_other_applications_jti_signed_with_own_key_is_refused(
    signed_in_client, attacker_app, victim_app, listed
):
    victim_jti = unverified_claims(tokens_for(signed_in_client, victim_app, VICTIM_SECRET)["id_token"])["jti"]
    aud = [attacker_app.client_id] if listed else attacker_app.client_id
    forged = forge({"iss": ISSUER, "aud": aud, "jti": victim_jti, "exp": later()}, hmac_key(ATTACKER_SECRET))

    assert call_api(forged).status_code == 403
    # Nor does it log alice out of the provider and delete her tokens everywhere. Since logout is
    # idempotent (upstream #1287) it reads as the attacker's own hint whose ID token is gone: it names no
    # user, so alice is asked, as for a logout request of the attacker's application without a hint.
    response = logout_with_hint(signed_in_client, forged)
    assert response.status_code == 200 and response.context["application"] == attacker_app
    assert get_user(signed_in_client).is_authenticated
    assert AccessToken.objects.filter(application=victim_app).exists()


def test_own_id_token_claiming_another_audience_too_is_refused(signed_in_client, attacker_app, victim_app):
    own = unverified_claims(tokens_for(signed_in_client, attacker_app, ATTACKER_SECRET)["id_token"])
    aud = [attacker_app.client_id, victim_app.client_id]
    forged = forge({**own, "aud": aud}, hmac_key(ATTACKER_SECRET))

    assert call_api(forged).status_code == 403


def test_expired_id_token_re_signed_with_a_new_exp_is_refused(signed_in_client, attacker_app):
    tokens = tokens_for(signed_in_client, attacker_app, ATTACKER_SECRET)
    claims = unverified_claims(tokens["id_token"])
    # Long ago, B received this ID token; it has expired since (its access token has not).
    IDToken.objects.filter(jti=claims["jti"]).update(expires=timezone.now() - timedelta(days=1))

    revived = forge({**claims, "exp": later()}, hmac_key(ATTACKER_SECRET))

    assert call_api(revived).status_code == 403


def test_id_token_whose_access_token_was_revoked_is_no_bearer(signed_in_client, attacker_app):
    tokens = tokens_for(signed_in_client, attacker_app, ATTACKER_SECRET)
    revoked = signed_in_client.post(
        reverse("oauth2_provider:revoke-token"),
        {"token": tokens["access_token"]},
        **basic_auth(attacker_app.client_id, ATTACKER_SECRET),
    )
    assert revoked.status_code == 200
    assert not AccessToken.objects.filter(application=attacker_app).exists()

    assert call_api(tokens["id_token"]).status_code == 403


def test_id_token_whose_access_token_expired_is_no_bearer(signed_in_client, attacker_app):
    tokens = tokens_for(signed_in_client, attacker_app, ATTACKER_SECRET)
    AccessToken.objects.filter(application=attacker_app).update(expires=timezone.now() - timedelta(seconds=1))

    assert call_api(tokens["id_token"]).status_code == 403


# 2. A stored secret hash is no HMAC key


@pytest.fixture
def hashed_hs256_app(oidc, make_app):
    """An HS256 application with its secret stored hashed, the default."""
    return make_app("hashed hmac", algorithm=Application.HS256_ALGORITHM, client_secret=VICTIM_SECRET)


def test_id_token_signed_with_the_stored_hash_is_refused(signed_in_client, hashed_hs256_app, caplog):
    # The client authenticates with its cleartext secret: its ID token is signed with that (upstream #1737).
    tokens = tokens_for(signed_in_client, hashed_hs256_app, VICTIM_SECRET)
    claims = unverified_claims(tokens["id_token"])
    stored_hash = Application.objects.get(pk=hashed_hs256_app.pk).client_secret
    forged = forge({**claims, "exp": later()}, hmac_key(stored_hash))

    with caplog.at_level(logging.WARNING, logger="oauth2_provider"):
        assert call_api(forged).status_code == 403
        assert_hint_refused(logout_with_hint(signed_in_client, forged), signed_in_client)
    # Fail closed, and say why: the provider has no key for it, not even the genuine token.
    assert "stored hashed" in caplog.text
    assert call_api(tokens["id_token"]).status_code == 403


def hs256_warnings(databases):
    """The W002 warnings of Django's check framework: as ``check --database`` runs it, or (None) ``check``."""
    found = checks.run_checks(databases=databases)
    return [message for message in found if message.id == "oauth2_provider.W002"]


def test_system_check_warns_about_hs256_applications_with_a_hashed_secret(
    hashed_hs256_app, attacker_app, django_assert_num_queries
):
    (warning,) = hs256_warnings(databases=["default"])

    assert warning.level == checks.WARNING
    assert hashed_hs256_app.client_id in warning.msg
    assert attacker_app.client_id not in warning.msg
    assert "hash_client_secret=False" in warning.hint
    # A plain `manage.py check` (no --database) does not touch the database, as Django's own checks.
    with django_assert_num_queries(0):
        assert hs256_warnings(databases=None) == []


def test_system_check_is_silent_without_such_applications(attacker_app):
    assert hs256_warnings(databases=["default"]) == []


# 3. One client per token request


@pytest.fixture
def other_client(oidc, make_app):
    """Client X, which Y names; Y is ``attacker_app``."""
    return make_app("named client", algorithm=Application.RS256_ALGORITHM, client_secret=VICTIM_SECRET)


# A client id in the body reaches the client authentication, which refuses it. In the query string it
# never gets there: oauthlib refuses any query parameter of a POST to the token endpoint (invalid_request);
# that case guards oauthlib's behaviour, on every version tox runs.
# With its own secret in the body as well, the client tries to pass the body's authentication instead.
@pytest.mark.parametrize(
    "where, status, error",
    [
        ("body", 401, "invalid_client"),
        ("body with own secret", 401, "invalid_client"),
        ("query", 400, "invalid_request"),
    ],
)
def test_basic_auth_of_one_client_naming_another_is_refused(
    signed_in_client, attacker_app, other_client, where, status, error
):
    code = obtain_code(signed_in_client, attacker_app, scope="openid read")
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    headers = basic_auth(attacker_app.client_id, ATTACKER_SECRET)
    named = {"client_id": other_client.client_id}

    if where == "body":
        response = post_token(signed_in_client, {**data, **named}, headers)
    elif where == "body with own secret":
        response = post_token(signed_in_client, {**data, **named, "client_secret": ATTACKER_SECRET}, headers)
    else:
        response = post_token(signed_in_client, data, headers, query=urlencode(named))

    assert_oauth_error(response, status, error)
    assert not AccessToken.objects.exists()
    # The code was not spent: its own client still redeems it, for itself.
    redeemed = post_token(signed_in_client, data, headers)
    assert redeemed.status_code == 200, redeemed.content
    assert unverified_claims(redeemed.json()["id_token"])["aud"] == attacker_app.client_id


def test_basic_auth_naming_its_own_client_id_is_served(signed_in_client, attacker_app):
    code = obtain_code(signed_in_client, attacker_app, scope="openid read")
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    data["client_id"] = attacker_app.client_id

    response = post_token(signed_in_client, data, basic_auth(attacker_app.client_id, ATTACKER_SECRET))

    assert response.status_code == 200, response.content


def test_refresh_naming_another_client_is_invalid_client(signed_in_client, attacker_app, other_client):
    tokens = tokens_for(signed_in_client, attacker_app, ATTACKER_SECRET)
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    headers = basic_auth(attacker_app.client_id, ATTACKER_SECRET)

    refused = post_token(signed_in_client, {**data, "client_id": other_client.client_id}, headers)

    assert_oauth_error(refused, 401, "invalid_client")
    assert post_token(signed_in_client, data, headers).status_code == 200


# 4. PKCE downgrade (RFC 9700 section 2.1.1)


def test_code_verifier_for_a_code_issued_without_challenge_is_invalid_grant(signed_in_client, attacker_app):
    verifier, _challenge = pkce_pair()
    code = obtain_code(signed_in_client, attacker_app, scope="openid read")

    response = exchange_code(
        signed_in_client, attacker_app, code, secret=ATTACKER_SECRET, code_verifier=verifier
    )

    assert_oauth_error(response, 400, "invalid_grant")
    assert not AccessToken.objects.exists()


def test_code_with_challenge_and_its_verifier_is_served(signed_in_client, attacker_app):
    verifier, challenge = pkce_pair()
    code = obtain_code(
        signed_in_client,
        attacker_app,
        scope="openid read",
        code_challenge=challenge,
        code_challenge_method="S256",
    )

    response = exchange_code(
        signed_in_client, attacker_app, code, secret=ATTACKER_SECRET, code_verifier=verifier
    )

    assert response.status_code == 200, response.content
