"""OpenID Connect through the real URLs: discovery, JWKS, ID tokens, claims, UserInfo, RP-initiated logout.

ID tokens come from the authorization and token endpoints, the way a relying party obtains them, and are
verified with jwcrypto as a relying party would: RS256 against the published JWKS, HS256 with the client
secret. Only tokens the server never issues (expired, foreign issuer, forged) are signed here.

The module is its own URLconf (``urlpatterns`` below): the provider's URLs are mounted under ``/o/``.
"""

import base64
import html
import json
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone
from jwcrypto import jwk, jws, jwt

from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.views import UserInfoView

from .flow_helpers import rsa_pem


urlpatterns = [path("o/", include("oauth2_provider.urls"))]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

Application = get_application_model()
AccessToken = get_access_token_model()
IDToken = get_id_token_model()
RefreshToken = get_refresh_token_model()

ISSUER = "https://id.example.com/o"
SECRET = "a-cleartext-client-secret-for-hs256-and-basic-auth"
REDIRECT_URI = "https://rp.example.com/callback"
LOGOUT_URI = "https://rp.example.com/logged-out"
SCOPES = {"openid": "OpenID Connect", "profile": "Profile", "email": "E-mail", "read": "Reading"}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def logout_url(**params):
    return reverse("oauth2_provider:rp-initiated-logout"), params


def is_logged_in(client):
    return get_user(client).is_authenticated


class ProfileValidator(OAuth2Validator):
    """Standard claims taken from the user, released per scope by the validator's oidc_claim_scope."""

    def get_additional_claims(self, request):
        return {"name": request.user.get_full_name(), "email": request.user.email, "email_verified": True}


class UncheckedKeyLookupValidator(OAuth2Validator):
    """Finds the key of an ID token without guarding against malformed tokens, as DOT 3.0.1's validator did.

    The logout view must not rely on the validator to absorb what a hostile id_token_hint makes it raise.
    """

    def _get_key_for_token(self, token):
        unverified = jws.JWS()
        unverified.deserialize(token)
        audience = json.loads(unverified.objects["payload"])["aud"]
        client_ids = [audience] if isinstance(audience, str) else audience
        application = Application.objects.filter(client_id__in=client_ids).first()
        return application.jwk_key if application else None


class RequestAgnosticClaimsValidator(OAuth2Validator):
    """Claims computed without the request: the discovery document can then list them."""

    def get_additional_claims(self):
        return {"email": lambda request: request.user.email, "sub": lambda request: "not-used"}


@pytest.fixture
def provider(settings):
    """Sets OAUTH2_PROVIDER for the test: OIDC on, RP-initiated logout on without a forced prompt.

    Call it with keyword arguments to change keys; it returns the dict in force.
    """

    def configure(**overrides):
        settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, **overrides}
        return settings.OAUTH2_PROVIDER

    settings.OAUTH2_PROVIDER = {
        "OIDC_ENABLED": True,
        "OIDC_ISS_ENDPOINT": ISSUER,
        "OIDC_RSA_PRIVATE_KEY": rsa_pem("active"),
        "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [rsa_pem("retired")],
        "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
        "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
        "SCOPES": SCOPES,
        "DEFAULT_SCOPES": ["openid"],
        "PKCE_REQUIRED": False,
        # Views keep their oauthlib server between requests; tests change the validator class.
        "ALWAYS_RELOAD_OAUTHLIB_CORE": True,
    }
    return configure


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user(
        "alice", "alice@example.com", "password", first_name="Alice", last_name="Liddell"
    )


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", "password")


@pytest.fixture
def alice_client(alice):
    client = Client()
    client.force_login(alice)
    return client


def make_application(user, name, **fields):
    fields = {
        "client_type": Application.CLIENT_CONFIDENTIAL,
        "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
        "redirect_uris": REDIRECT_URI,
        "post_logout_redirect_uris": LOGOUT_URI,
        "algorithm": Application.RS256_ALGORITHM,
        "client_secret": SECRET,
        "hash_client_secret": False,
        **fields,
    }
    return Application.objects.create(user=user, name=name, **fields)


@pytest.fixture
def rp(provider, alice):
    return make_application(alice, "Relying party")


@pytest.fixture
def other_rp(provider, alice):
    return make_application(
        alice,
        "Other relying party",
        client_type=Application.CLIENT_PUBLIC,
        redirect_uris="http://other.example.com/callback",
        post_logout_redirect_uris="http://other.example.com/bye",
        client_secret="",
    )


def obtain_tokens(application, user, scope="openid", nonce=None):
    """The token endpoint's JSON after an authorization code flow run by ``user`` for ``application``."""
    browser = Client()
    browser.force_login(user)
    consent = {
        "client_id": application.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": "xyz",
        "allow": True,
    }
    if nonce:
        consent["nonce"] = nonce
    authorized = browser.post(reverse("oauth2_provider:authorize"), data=consent)
    assert authorized.status_code == 302, authorized.content
    code = parse_qs(urlsplit(authorized["Location"]).query)["code"][0]
    token_request = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": application.client_id,
        "client_secret": SECRET,
    }
    response = Client().post(reverse("oauth2_provider:token"), data=token_request)
    assert response.status_code == 200, response.content
    return response.json()


def published_keys(client):
    return jwk.JWKSet.from_json(client.get(reverse("oauth2_provider:jwks-info")).content)


def verified_claims(token, key):
    return json.loads(jwt.JWT(jwt=token, key=key).claims)


def signed(claims, key, alg="RS256"):
    token = jwt.JWT(header={"alg": alg, "typ": "JWT"}, claims=claims)
    token.make_signed_token(key)
    return token.serialize()


def id_token_row(application, user, expires_in=timedelta(hours=1)):
    return IDToken.objects.create(
        application=application, user=user, scope="openid", expires=timezone.now() + expires_in
    )


def hint_claims(application, row, **changes):
    """The claims of an ID token we could have issued for ``row``; ``changes`` override or (None) drop."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": application.client_id,
        "sub": str(row.user_id),
        "jti": str(row.jti),
        "iat": now,
        "exp": now + 3600,
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


# Discovery


def test_discovery_document_on_the_issuer_host(client, provider):
    response = client.get("/o/.well-known/openid-configuration")

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json() == {
        "issuer": ISSUER,
        "authorization_endpoint": "https://id.example.com/o/authorize/",
        "token_endpoint": "https://id.example.com/o/token/",
        "userinfo_endpoint": "https://id.example.com/o/userinfo/",
        "jwks_uri": "https://id.example.com/o/.well-known/jwks.json",
        "end_session_endpoint": "https://id.example.com/o/logout/",
        "scopes_supported": ["openid", "profile", "email", "read"],
        "claims_supported": ["sub"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "HS256"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        # Every combination oauthlib's OpenID Connect server handles.
        "response_types_supported": [
            "code",
            "token",
            "id_token",
            "id_token token",
            "code token",
            "code id_token",
            "code id_token token",
        ],
    }


def test_discovery_document_on_the_request_host_without_issuer_setting(client, provider):
    provider(OIDC_ISS_ENDPOINT="", OIDC_RP_INITIATED_LOGOUT_ENABLED=False)

    document = client.get("/o/.well-known/openid-configuration/", secure=True).json()

    assert document["issuer"] == "https://testserver/o"
    assert document["authorization_endpoint"] == "https://testserver/o/authorize/"
    assert document["token_endpoint"] == "https://testserver/o/token/"
    assert document["userinfo_endpoint"] == "https://testserver/o/userinfo/"
    assert document["jwks_uri"] == "https://testserver/o/.well-known/jwks.json"
    assert "end_session_endpoint" not in document


def test_discovery_document_names_a_userinfo_endpoint_elsewhere(client, provider):
    provider(OIDC_USERINFO_ENDPOINT="https://api.example.com/me")

    document = client.get("/o/.well-known/openid-configuration").json()

    assert document["userinfo_endpoint"] == "https://api.example.com/me"


def test_discovery_document_without_rsa_key_offers_hs256_only(client, provider):
    provider(OIDC_RSA_PRIVATE_KEY="")

    document = client.get("/o/.well-known/openid-configuration").json()

    assert document["id_token_signing_alg_values_supported"] == ["HS256"]


def test_discovery_lists_request_agnostic_claims_once(client, provider):
    provider(OAUTH2_VALIDATOR_CLASS=RequestAgnosticClaimsValidator)

    document = client.get("/o/.well-known/openid-configuration").json()

    assert document["claims_supported"] == ["sub", "email"]


@pytest.mark.parametrize("url_name", ["oidc-connect-discovery-info", "jwks-info", "user-info"])
def test_oidc_endpoints_are_not_found_with_oidc_disabled(client, provider, url_name):
    provider(OIDC_ENABLED=False)

    assert client.get(reverse(f"oauth2_provider:{url_name}")).status_code == 404


def test_logout_endpoint_is_not_found_with_rp_initiated_logout_disabled(alice_client, provider):
    provider(OIDC_RP_INITIATED_LOGOUT_ENABLED=False)

    assert alice_client.get(reverse("oauth2_provider:rp-initiated-logout")).status_code == 404
    assert is_logged_in(alice_client)


# JWKS


def test_jwks_publishes_the_public_halves_of_active_and_retired_keys(client, provider):
    provider(OIDC_JWKS_MAX_AGE_SECONDS=600)

    response = client.get(reverse("oauth2_provider:jwks-info"))

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    directives = {directive.strip() for directive in response["Cache-Control"].split(",")}
    assert directives == {"public", "max-age=600", "stale-while-revalidate=600", "stale-if-error=600"}
    expected = []
    for name in ("active", "retired"):
        key = jwk.JWK.from_pem(rsa_pem(name).encode())
        expected.append({"alg": "RS256", "use": "sig", "kid": key.thumbprint(), **key.export_public(True)})
    assert response.json() == {"keys": expected}
    assert all("d" not in key for key in response.json()["keys"])


def test_jwks_is_empty_without_rsa_key(client, provider):
    provider(OIDC_RSA_PRIVATE_KEY="", OIDC_RSA_PRIVATE_KEYS_INACTIVE=[])

    assert client.get(reverse("oauth2_provider:jwks-info")).json() == {"keys": []}


# ID tokens


def test_rs256_id_token_verifies_against_the_published_key(client, rp, alice):
    tokens = obtain_tokens(rp, alice, nonce="n-0S6_WzA2Mj")

    header = json.loads(base64.urlsafe_b64decode(tokens["id_token"].split(".")[0] + "=="))
    key = published_keys(client).get_key(header["kid"])
    claims = verified_claims(tokens["id_token"], key)

    assert header["alg"] == "RS256"
    assert claims["iss"] == ISSUER
    assert claims["aud"] == rp.client_id
    assert claims["sub"] == str(alice.pk)
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["exp"] > claims["iat"]
    row = IDToken.objects.get(jti=claims["jti"])
    assert (row.user, row.application) == (alice, rp)


def test_id_token_signed_by_the_active_key_does_not_verify_with_a_retired_key(client, rp, alice):
    tokens = obtain_tokens(rp, alice)
    retired = jwk.JWK.from_pem(rsa_pem("retired").encode())

    with pytest.raises(jws.InvalidJWSSignature):
        verified_claims(tokens["id_token"], retired)


def test_hs256_id_token_verifies_with_the_client_secret(provider, alice):
    provider(OIDC_RSA_PRIVATE_KEY="", OIDC_RSA_PRIVATE_KEYS_INACTIVE=[])
    application = make_application(alice, "HMAC relying party", algorithm=Application.HS256_ALGORITHM)

    tokens = obtain_tokens(application, alice)

    header = json.loads(base64.urlsafe_b64decode(tokens["id_token"].split(".")[0] + "=="))
    secret_key = jwk.JWK(kty="oct", k=b64url(SECRET.encode()))
    claims = verified_claims(tokens["id_token"], secret_key)
    assert header["alg"] == "HS256"
    assert (claims["aud"], claims["sub"], claims["iss"]) == (application.client_id, str(alice.pk), ISSUER)


@pytest.mark.parametrize(
    "scope, released, withheld",
    [
        ("openid", {"sub"}, {"name", "email", "email_verified"}),
        ("openid email", {"sub", "email", "email_verified"}, {"name"}),
        ("openid profile", {"sub", "name"}, {"email", "email_verified"}),
        ("openid profile email", {"sub", "name", "email", "email_verified"}, set()),
    ],
)
def test_claims_follow_the_granted_scopes(client, provider, rp, alice, scope, released, withheld):
    provider(OAUTH2_VALIDATOR_CLASS=ProfileValidator)
    tokens = obtain_tokens(rp, alice, scope=scope)

    id_claims = verified_claims(tokens["id_token"], published_keys(client).get_key(rp.jwk_key.thumbprint()))
    userinfo = client.get(
        reverse("oauth2_provider:user-info"), HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
    ).json()

    for claims in (id_claims, userinfo):
        assert released <= claims.keys()
        assert not withheld & claims.keys()
    assert userinfo["sub"] == str(alice.pk)
    if "name" in released:
        assert userinfo["name"] == "Alice Liddell"
    if "email" in released:
        assert userinfo["email"] == "alice@example.com"


# prompt=none (OpenID Connect Core 1.0, section 3.1.2.1 and 3.1.2.6): an answer without any page


def silent_authorization(browser, application, **params):
    """A ``prompt=none`` authentication request of ``application``: the parameters of its redirect."""
    query = {
        "client_id": application.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": "s-1",
        "prompt": "none",
        **params,
    }
    response = browser.get(reverse("oauth2_provider:authorize"), query)
    assert response.status_code == 302, response.content
    assert response["Location"].startswith(REDIRECT_URI + "?")
    return {name: values[0] for name, values in parse_qs(urlsplit(response["Location"]).query).items()}


def test_prompt_none_of_an_anonymous_browser_answers_login_required(client, rp):
    assert silent_authorization(client, rp) == {"error": "login_required", "state": "s-1"}


def test_prompt_none_answers_consent_required_instead_of_the_consent_page(alice_client, rp):
    answer = silent_authorization(alice_client, rp)

    assert (answer["error"], answer["state"]) == ("consent_required", "s-1")
    assert not get_grant_model().objects.exists()


def test_prompt_none_without_openid_answers_consent_required_too(alice_client, rp):
    answer = silent_authorization(alice_client, rp, scope="read")

    assert (answer["error"], answer["state"]) == ("consent_required", "s-1")


def test_prompt_none_grants_silently_to_an_application_that_skips_consent(alice_client, rp, alice):
    rp.skip_authorization = True
    rp.save()

    answer = silent_authorization(alice_client, rp)

    assert answer["state"] == "s-1"
    assert get_grant_model().objects.get(code=answer["code"]).user == alice


@pytest.mark.parametrize("where", ["setting", "query"])
def test_prompt_none_grants_silently_when_a_live_token_covers_the_scopes(
    alice_client, provider, rp, alice, where
):
    obtain_tokens(rp, alice)
    params = {}
    if where == "setting":
        provider(REQUEST_APPROVAL_PROMPT="auto")
    else:
        params["approval_prompt"] = "auto"

    answer = silent_authorization(alice_client, rp, **params)

    assert "code" in answer, answer
    tokens = (
        Client()
        .post(
            reverse("oauth2_provider:token"),
            {
                "grant_type": "authorization_code",
                "code": answer["code"],
                "redirect_uri": REDIRECT_URI,
                "client_id": rp.client_id,
                "client_secret": SECRET,
            },
        )
        .json()
    )
    assert "id_token" in tokens


def test_prompt_none_needs_consent_again_for_scopes_no_live_token_covers(alice_client, provider, rp, alice):
    provider(REQUEST_APPROVAL_PROMPT="auto")
    obtain_tokens(rp, alice)

    answer = silent_authorization(alice_client, rp, scope="openid profile")

    assert answer["error"] == "consent_required"


@pytest.mark.parametrize("browser", ["anonymous", "logged in"])
def test_prompt_none_with_an_unregistered_redirect_uri_redirects_nowhere(client, alice_client, rp, browser):
    browser = client if browser == "anonymous" else alice_client
    query = {
        "client_id": rp.client_id,
        "response_type": "code",
        "redirect_uri": "https://evil.example.com/callback",
        "scope": "openid",
        "prompt": "none",
    }

    response = browser.get(reverse("oauth2_provider:authorize"), query)

    assert response.status_code == 400
    assert not response.has_header("Location")


# UserInfo


@pytest.mark.parametrize("method", ["get", "post"])
def test_userinfo_answers_get_and_post_without_csrf_token(rp, alice, method):
    tokens = obtain_tokens(rp, alice)
    client = Client(enforce_csrf_checks=True)

    response = getattr(client, method)(
        reverse("oauth2_provider:user-info"), HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"sub": str(alice.pk)}


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic YTpi", "Bearer " + "x" * 5000])
def test_userinfo_refuses_requests_without_a_valid_bearer_token(client, provider, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = client.get(reverse("oauth2_provider:user-info"), **headers)

    assert response.status_code == 401
    assert "Bearer" in response["WWW-Authenticate"]


def test_userinfo_view_keeps_the_response_hook_of_dot_3_0_1(rp, alice, rf):
    """A subclass overriding ``_create_userinfo_response`` (its DOT 3.0.1 name) answers both methods."""

    class WrappedUserInfoView(UserInfoView):
        def _create_userinfo_response(self, request):
            response = super()._create_userinfo_response(request)
            response["X-Wrapped"] = "yes"
            return response

    tokens = obtain_tokens(rp, alice)
    view = WrappedUserInfoView.as_view()
    for method in (rf.get, rf.post):
        response = view(method("/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"))
        assert response.status_code == 200
        assert response["X-Wrapped"] == "yes"


def test_userinfo_refuses_a_token_without_openid_scope(client, rp, alice):
    token = AccessToken.objects.create(
        user=alice,
        application=rp,
        token="no-openid",
        scope="read",
        expires=timezone.now() + timedelta(hours=1),
    )

    response = client.get(reverse("oauth2_provider:user-info"), HTTP_AUTHORIZATION=f"Bearer {token.token}")

    # oauthlib asks the validator for a token valid for "openid": this one is not, so it is invalid.
    assert response.status_code == 401
    assert "sub" not in response.content.decode()


# RP-initiated logout: requests that are accepted


def test_logout_with_hint_of_the_session_user_needs_no_prompt(alice_client, rp, alice):
    tokens = obtain_tokens(rp, alice)
    url, params = logout_url(id_token_hint=tokens["id_token"])

    response = alice_client.get(url, params)

    assert response.status_code == 302
    assert response["Location"] == "http://testserver/"
    assert not is_logged_in(alice_client)


def test_logout_redirects_to_the_registered_uri_with_state(alice_client, rp, alice):
    tokens = obtain_tokens(rp, alice)
    url, params = logout_url(
        id_token_hint=tokens["id_token"],
        client_id=rp.client_id,
        post_logout_redirect_uri=LOGOUT_URI,
        state="af0ifjsldkj",
    )

    response = alice_client.get(url, params)

    assert response.status_code == 302
    assert response["Location"] == f"{LOGOUT_URI}?state=af0ifjsldkj"
    assert not is_logged_in(alice_client)


def test_logout_revokes_the_users_tokens(alice_client, rp, alice, bob):
    tokens = obtain_tokens(rp, alice)
    obtain_tokens(rp, alice)
    obtain_tokens(rp, bob)
    url, params = logout_url(id_token_hint=tokens["id_token"])

    alice_client.get(url, params)

    assert not AccessToken.objects.filter(user=alice).exists()
    assert not IDToken.objects.filter(user=alice).exists()
    assert RefreshToken.objects.filter(user=alice).count() == 2
    assert not RefreshToken.objects.filter(user=alice, revoked__isnull=True).exists()
    # Another user's tokens are left alone.
    assert AccessToken.objects.filter(user=bob).count() == 1
    assert IDToken.objects.filter(user=bob).count() == 1
    assert RefreshToken.objects.get(user=bob).revoked is None


def test_logout_keeps_tokens_when_deletion_is_off(alice_client, provider, rp, alice):
    provider(OIDC_RP_INITIATED_LOGOUT_DELETE_TOKENS=False)
    tokens = obtain_tokens(rp, alice)
    url, params = logout_url(id_token_hint=tokens["id_token"])

    assert alice_client.get(url, params).status_code == 302

    assert AccessToken.objects.filter(user=alice).count() == 1
    assert IDToken.objects.filter(user=alice).count() == 1
    assert RefreshToken.objects.get(user=alice).revoked is None


def test_logout_without_hint_asks_for_confirmation(alice_client, rp):
    url, params = logout_url(client_id=rp.client_id, post_logout_redirect_uri=LOGOUT_URI, state="s")

    response = alice_client.get(url, params)

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "oauth2_provider/logout_confirm.html"
    assert response.context["application"] == rp
    assert "error" not in response.context
    initial = response.context["form"].initial
    assert (initial["client_id"], initial["post_logout_redirect_uri"], initial["state"]) == (
        rp.client_id,
        LOGOUT_URI,
        "s",
    )
    assert is_logged_in(alice_client)


def test_logout_without_any_parameter_asks_for_confirmation(alice_client, provider):
    response = alice_client.get(reverse("oauth2_provider:rp-initiated-logout"))

    assert response.status_code == 200
    assert "application" not in response.context
    assert is_logged_in(alice_client)


def test_confirmed_logout_redirects_with_state(alice_client, rp):
    url = reverse("oauth2_provider:rp-initiated-logout")
    form = {"client_id": rp.client_id, "post_logout_redirect_uri": LOGOUT_URI, "state": "s1", "allow": "on"}

    response = alice_client.post(url, form)

    assert response.status_code == 302
    assert response["Location"] == f"{LOGOUT_URI}?state=s1"
    assert not is_logged_in(alice_client)


def test_refused_logout_keeps_the_session(alice_client, rp):
    response = alice_client.post(reverse("oauth2_provider:rp-initiated-logout"), {"client_id": rp.client_id})

    assert response.status_code == 400
    assert response.context["error"].error == "logout_denied"
    assert b"logout_denied" in response.content
    assert is_logged_in(alice_client)


def test_always_prompt_asks_even_with_a_valid_hint(alice_client, provider, rp, alice):
    provider(OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT=True)
    tokens = obtain_tokens(rp, alice)
    url, params = logout_url(id_token_hint=tokens["id_token"])

    response = alice_client.get(url, params)

    assert response.status_code == 200
    assert response.context["application"] == rp
    assert is_logged_in(alice_client)
    confirmed = alice_client.post(url, {**params, "allow": "on"})
    assert confirmed.status_code == 302
    assert not is_logged_in(alice_client)
    assert not AccessToken.objects.filter(user=alice).exists()


def test_hint_of_another_user_asks_for_confirmation(alice_client, rp, bob):
    tokens = obtain_tokens(rp, bob)
    url, params = logout_url(id_token_hint=tokens["id_token"])

    assert alice_client.get(url, params).status_code == 200
    assert is_logged_in(alice_client)
    assert AccessToken.objects.filter(user=bob).exists()


def test_hint_after_the_session_ended_revokes_the_hint_users_tokens_without_asking(client, rp, alice):
    # Backported fix of upstream #1517: without a session there is nothing to confirm (DOT 3.0.1 asked).
    tokens = obtain_tokens(rp, alice)
    url, params = logout_url(id_token_hint=tokens["id_token"])

    response = client.get(url, params)

    assert response.status_code == 302
    assert not AccessToken.objects.filter(user=alice).exists()


@pytest.fixture
def third_rp(provider, alice):
    return make_application(alice, "Third relying party")


def test_hint_without_a_session_revokes_tokens_only_at_its_own_application(client, rp, third_rp, alice):
    # Whoever holds an ID token (it travels in logout URLs) can send this GET: it speaks for rp alone.
    tokens = obtain_tokens(rp, alice)
    obtain_tokens(third_rp, alice)
    url, params = logout_url(id_token_hint=tokens["id_token"])

    assert client.get(url, params).status_code == 302

    assert not AccessToken.objects.filter(user=alice, application=rp).exists()
    assert AccessToken.objects.filter(user=alice, application=third_rp).count() == 1
    assert RefreshToken.objects.get(user=alice, application=third_rp).revoked is None


def test_session_users_logout_revokes_tokens_at_every_application(alice_client, rp, third_rp, alice):
    tokens = obtain_tokens(rp, alice)
    obtain_tokens(third_rp, alice)
    url, params = logout_url(id_token_hint=tokens["id_token"])

    assert alice_client.get(url, params).status_code == 302

    assert not AccessToken.objects.filter(user=alice).exists()


def test_confirmed_logout_with_another_users_hint_revokes_that_user_only_at_its_application(
    alice_client, rp, third_rp, bob
):
    tokens = obtain_tokens(rp, bob)
    obtain_tokens(third_rp, bob)
    url, params = logout_url(id_token_hint=tokens["id_token"])

    assert alice_client.post(url, {**params, "allow": "on"}).status_code == 302

    assert not AccessToken.objects.filter(user=bob, application=rp).exists()
    assert AccessToken.objects.filter(user=bob, application=third_rp).count() == 1


def test_expired_hint_is_accepted_by_default(alice_client, rp, alice):
    row = id_token_row(rp, alice, expires_in=timedelta(hours=-1))
    hint = signed(hint_claims(rp, row, exp=int(time.time()) - 3600), rp.jwk_key)
    url, params = logout_url(id_token_hint=hint, client_id=rp.client_id)

    assert alice_client.get(url, params).status_code == 302
    assert not is_logged_in(alice_client)


SECOND_LOGOUT_URI = "https://second-rp.example.com/bye"


# RP-initiated logout is idempotent (upstream #1287, PR #1804): a hint whose ID token is gone (deleted by
# a logout at another relying party, or revoked) still names its relying party, through aud, but no user.


def test_a_second_relying_party_logging_out_after_the_first_is_redirected(alice_client, rp, alice):
    second_rp = make_application(alice, "Second relying party", post_logout_redirect_uris=SECOND_LOGOUT_URI)
    first = obtain_tokens(rp, alice)
    second = obtain_tokens(second_rp, alice)
    url, params = logout_url(id_token_hint=first["id_token"], post_logout_redirect_uri=LOGOUT_URI)
    assert alice_client.get(url, params)["Location"] == LOGOUT_URI
    # The first logout ended the session and deleted alice's ID tokens everywhere, the second RP's too.
    assert not IDToken.objects.filter(user=alice).exists()

    url, params = logout_url(
        id_token_hint=second["id_token"], post_logout_redirect_uri=SECOND_LOGOUT_URI, state="s2"
    )
    response = alice_client.get(url, params)

    assert response.status_code == 302
    assert response["Location"] == f"{SECOND_LOGOUT_URI}?state=s2"


def test_a_hint_whose_id_token_is_gone_asks_a_logged_in_user_to_confirm(alice_client, rp, alice):
    tokens = obtain_tokens(rp, alice)
    IDToken.objects.filter(user=alice).delete()
    url, params = logout_url(id_token_hint=tokens["id_token"], post_logout_redirect_uri=LOGOUT_URI)

    response = alice_client.get(url, params)

    # It no longer proves who it is about: the session is not ended without asking, nothing is deleted.
    assert response.status_code == 200
    assert response.context["application"] == rp
    assert is_logged_in(alice_client)
    confirmed = alice_client.post(url, {**params, "allow": "on"})
    assert confirmed["Location"] == LOGOUT_URI
    assert not is_logged_in(alice_client)


def test_a_hint_whose_id_token_is_gone_cannot_redirect_to_another_relying_party(client, rp, other_rp, alice):
    tokens = obtain_tokens(rp, alice)
    IDToken.objects.filter(user=alice).delete()
    url, params = logout_url(
        id_token_hint=tokens["id_token"], post_logout_redirect_uri="http://other.example.com/bye"
    )

    assert client.get(url, params).status_code == 400
    url, params = logout_url(id_token_hint=tokens["id_token"], client_id=other_rp.client_id)
    assert "Mismatch between the Client ID" in client.get(url, params).context["error"].description


# RP-initiated logout: requests that are refused (status 400, the session survives)


def assert_refused(response, client, description=None):
    assert response.status_code == 400
    assert [t.name for t in response.templates][0] == "oauth2_provider/logout_confirm.html"
    error = response.context["error"]
    assert error.error == "invalid_request"
    assert html.escape(error.description) in response.content.decode()
    if description:
        assert description in error.description
    assert is_logged_in(client)


def test_expired_hint_is_refused_when_configured(alice_client, provider, rp, alice):
    provider(OIDC_RP_INITIATED_LOGOUT_ACCEPT_EXPIRED_TOKENS=False)
    row = id_token_row(rp, alice)
    hint = signed(hint_claims(rp, row, exp=int(time.time()) - 3600), rp.jwk_key)
    url, params = logout_url(id_token_hint=hint)

    assert_refused(alice_client.get(url, params), alice_client, "The ID Token is expired")


def test_hint_with_another_issuer_is_refused(alice_client, rp, alice):
    row = id_token_row(rp, alice)
    hint = signed(hint_claims(rp, row, iss="https://evil.example.com/o"), rp.jwk_key)
    url, params = logout_url(id_token_hint=hint)

    assert_refused(alice_client.get(url, params), alice_client)


def test_hint_for_another_client_is_refused(alice_client, rp, other_rp, alice):
    tokens = obtain_tokens(rp, alice)
    url, params = logout_url(id_token_hint=tokens["id_token"], client_id=other_rp.client_id)

    assert_refused(alice_client.get(url, params), alice_client, "Mismatch between the Client ID")
    assert AccessToken.objects.filter(user=alice).exists()


@pytest.mark.parametrize("client_id", ["no-such-client", "no-such\x00client"], ids=["unknown", "nul"])
def test_unknown_client_is_refused(alice_client, provider, client_id):
    url, params = logout_url(client_id=client_id, post_logout_redirect_uri=LOGOUT_URI)

    assert_refused(alice_client.get(url, params), alice_client, "The client is unknown")


@pytest.mark.parametrize(
    "redirect_uri, description",
    [
        ("https://evil.example.com/logged-out", "does not have this redirect uri registered"),
        ("https://rp.example.com/logged-out/../elsewhere", "does not have this redirect uri registered"),
        ("https://rp.example.com.evil.example/logged-out", "does not have this redirect uri registered"),
        ("rp.example.com/logged-out", "A Scheme is required"),
        ("javascript://rp.example.com/logged-out", 'Redirect to scheme "javascript" is not permitted'),
        ("https://[rp.example.com/logged-out", "malformed"),
    ],
)
def test_unregistered_redirect_uri_is_refused(alice_client, rp, redirect_uri, description):
    url, params = logout_url(client_id=rp.client_id, post_logout_redirect_uri=redirect_uri)

    assert_refused(alice_client.get(url, params), alice_client, description)
    # The confirmation form re-checks what it is sent.
    form = {**params, "allow": "on"}
    assert_refused(alice_client.post(url, form), alice_client, description)


def test_redirect_uri_without_a_client_is_refused(alice_client, provider):
    url, params = logout_url(post_logout_redirect_uri=LOGOUT_URI)

    assert_refused(alice_client.get(url, params), alice_client, "The client is unknown")


def test_redirect_uri_of_another_client_is_refused(alice_client, rp, other_rp):
    url, params = logout_url(client_id=rp.client_id, post_logout_redirect_uri="http://other.example.com/bye")

    assert_refused(alice_client.get(url, params), alice_client)


def test_strict_redirect_uris_refuse_http_for_public_clients(alice_client, provider, other_rp):
    url, params = logout_url(
        client_id=other_rp.client_id, post_logout_redirect_uri="http://other.example.com/bye"
    )
    assert alice_client.get(url, params).status_code == 200

    provider(OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS=True)

    assert_refused(alice_client.get(url, params), alice_client, "http is only allowed with confidential")


# Hostile id_token_hint values: each is answered with the error page, never a server error.


def b64json(value):
    return b64url(json.dumps(value).encode())


def hostile_hints(rp, other_app, alice):
    row = id_token_row(rp, alice)
    good = hint_claims(rp, row)
    stranger_key = jwk.JWK.from_pem(rsa_pem("stranger").encode())
    # The classic algorithm confusion: an HMAC keyed with the published RSA key.
    public_pem = jwk.JWK.from_pem(rsa_pem("active").encode()).export_to_pem()
    public_pem_as_hmac_key = jwk.JWK(kty="oct", k=b64url(public_pem))
    header = b64json({"alg": "RS256", "typ": "JWT"})
    return {
        "garbage": "Not a valid ID token.",
        "empty segments": "..",
        "three dots": "a.b.c",
        "non-ascii": "é.ü.ß",
        "five segments (JWE shape)": "a.b.c.d.e",
        "alg none": f"{b64json({'alg': 'none', 'typ': 'JWT'})}.{b64json(good)}.",
        "signed by another key": signed(good, stranger_key),
        "HS256 keyed with our public key": signed(good, public_pem_as_hmac_key, alg="HS256"),
        "signature cut off": signed(good, rp.jwk_key).rsplit(".", 1)[0] + ".",
        "payload not JSON": f"{header}.{b64url(b'not json')}.c2ln",
        "payload a JSON list": f"{header}.{b64json(['aud'])}.c2ln",
        "payload a JSON number": f"{header}.{b64json(7)}.c2ln",
        "payload a JSON string": f"{header}.{b64json('aud')}.c2ln",
        "aud a number": f"{header}.{b64json({**good, 'aud': 7})}.c2ln",
        "aud an object": f"{header}.{b64json({**good, 'aud': {'a': 1}})}.c2ln",
        "aud unknown": signed({**good, "aud": "no-such-client"}, rp.jwk_key),
        "aud of an application without algorithm": signed({**good, "aud": other_app.client_id}, rp.jwk_key),
        "jti missing": signed(hint_claims(rp, row, jti=None), rp.jwk_key),
        "jti not a UUID": signed({**good, "jti": "not-a-uuid"}, rp.jwk_key),
        "jti a list": signed({**good, "jti": [str(row.jti)]}, rp.jwk_key),
        "iss missing": signed(hint_claims(rp, row, iss=None), rp.jwk_key),
        "exp a string": signed({**good, "exp": "tomorrow"}, rp.jwk_key),
        "huge": "A" * 300_000,
        "huge signed": signed({**good, "padding": "x" * 300_000}, stranger_key),
    }


INVALID_HINT = "The ID Token is expired, revoked, malformed, or otherwise invalid."


@pytest.mark.parametrize("validator", [OAuth2Validator, UncheckedKeyLookupValidator])
@pytest.mark.parametrize("method", ["get", "post"])
def test_hostile_hints_get_the_error_page(alice_client, provider, rp, alice, method, validator):
    provider(OAUTH2_VALIDATOR_CLASS=validator)
    no_algorithm = make_application(alice, "Plain OAuth2 client", algorithm=Application.NO_ALGORITHM)
    url = reverse("oauth2_provider:rp-initiated-logout")

    for name, hint in hostile_hints(rp, no_algorithm, alice).items():
        response = getattr(alice_client, method)(url, {"id_token_hint": hint, "allow": "on"})
        assert response.status_code == 400, name
        assert response.context["error"].error == "invalid_request", name
        assert INVALID_HINT in response.content.decode(), name
        assert is_logged_in(alice_client), name
