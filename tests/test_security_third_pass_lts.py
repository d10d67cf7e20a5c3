"""Attacks beyond every DOT release, third pass (issue 26), each driven through the real views.

Every attack has a control beside it, the legitimate request that is still served, so that a refusal means
the attack was recognised and not that the set-up was broken.
"""

import base64
import json
from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.contrib.auth import get_user
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import include, path, reverse
from django.utils import timezone
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth2_provider.backends import OAuth2Backend
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.models import get_application_model
from oauth2_provider.views.generic import ProtectedResourceView

from .flow_helpers import (
    CLIENT_SECRET,
    assert_oauth_error,
    authorization_params,
    authorize_url,
    basic_auth,
    consent,
    exchange_code,
    issued_tokens,
    location_params,
    obtain_code,
    pkce_pair,
    post_token,
    refresh,
    rsa_pem,
)


class Api(ProtectedResourceView):
    def get(self, request):
        return HttpResponse("ok")


class DRFApi(APIView):
    authentication_classes = [OAuth2Authentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("o/", include("oauth2_provider.urls")),
    path("api/", Api.as_view()),
    path("drf/", DRFApi.as_view()),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

Application = get_application_model()


@pytest.fixture
def oidc(provider_settings):
    provider_settings(
        OIDC_ENABLED=True,
        OIDC_ISS_ENDPOINT="https://id.example.com/o",
        OIDC_RSA_PRIVATE_KEY=rsa_pem(),
        SCOPES={"openid": "OpenID Connect", "read": "Reading", "introspection": "Introspection"},
        PKCE_REQUIRED=False,
        ALWAYS_RELOAD_OAUTHLIB_CORE=True,
    )


@pytest.fixture
def oidc_app(oidc, make_app):
    return make_app("relying party", algorithm=Application.RS256_ALGORITHM)


def client_credentials_token(app, scope):
    response = post_token(
        Client(),
        {"grant_type": "client_credentials", "scope": scope},
        basic_auth(app.client_id, CLIENT_SECRET),
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def userinfo(token):
    return Client().get(reverse("oauth2_provider:user-info"), HTTP_AUTHORIZATION=f"Bearer {token}")


# 6. UserInfo with a token that has no end user


def test_client_credentials_token_granted_openid_is_refused_at_userinfo(oidc, service_app):
    token = client_credentials_token(service_app, "openid")

    assert_oauth_error(userinfo(token), 401, "invalid_token")


def test_end_user_token_gets_its_claims_at_userinfo(signed_in_client, oidc_app, resource_owner):
    tokens = issued_tokens(signed_in_client, oidc_app, scope="openid read")

    response = userinfo(tokens["access_token"])

    assert response.status_code == 200, response.content
    assert response.json()["sub"] == str(resource_owner.pk)


# 9. Only a compact JWS where a signed JWT is expected


def json_serialized(id_token):
    """The same signed ID token in the JWS JSON serialization (RFC 7515 section 7.2), signature intact.

    jwcrypto's JWT parser picks JWS or JWE by the number of dots; two in an unprotected header member
    make it parse the JSON form as a JWS.
    """
    protected, payload, signature = id_token.split(".")
    document = {"protected": protected, "payload": payload, "signature": signature, "header": {"note": ".."}}
    return json.dumps(document)


@pytest.fixture
def logout_enabled(provider_settings, oidc):
    provider_settings(OIDC_RP_INITIATED_LOGOUT_ENABLED=True, OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT=False)


def logout_with_hint(browser, hint):
    return browser.get(reverse("oauth2_provider:rp-initiated-logout"), {"id_token_hint": hint})


def test_id_token_hint_in_json_serialization_is_refused(signed_in_client, oidc_app, logout_enabled):
    id_token = issued_tokens(signed_in_client, oidc_app, scope="openid read")["id_token"]

    response = logout_with_hint(signed_in_client, json_serialized(id_token))

    assert response.status_code == 400
    assert get_user(signed_in_client).is_authenticated


def test_id_token_hint_in_compact_serialization_logs_out(signed_in_client, oidc_app, logout_enabled):
    id_token = issued_tokens(signed_in_client, oidc_app, scope="openid read")["id_token"]

    response = logout_with_hint(signed_in_client, id_token)

    assert response.status_code == 302, response.content
    assert not get_user(signed_in_client).is_authenticated


# 4. Clickjacking: the consent page and the logout confirmation in a hostile site's frame


def assert_framing_denied(response):
    assert response.status_code == 200, response.content
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Security-Policy"] == "frame-ancestors 'none'"


@pytest.fixture(params=[False, True], ids=["no framing middleware", "XFrameOptionsMiddleware SAMEORIGIN"])
def framing_middleware(request, settings):
    # With or without Django's middleware (whose default is SAMEORIGIN), the pages refuse every frame.
    if request.param:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.middleware.clickjacking.XFrameOptionsMiddleware"]


def test_consent_page_cannot_be_framed(signed_in_client, code_app, without_pkce, framing_middleware):
    page = signed_in_client.get(authorize_url(authorization_params(code_app)))

    assert_framing_denied(page)
    assert "form" in page.context


def test_logout_confirmation_cannot_be_framed(signed_in_client, logout_enabled, framing_middleware):
    page = signed_in_client.get(reverse("oauth2_provider:rp-initiated-logout"))

    assert_framing_denied(page)
    assert "form" in page.context


# 5 and 2. One verdict for every view of a token: a disabled application, a deactivated user


def bearer(path, token):
    return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def introspects_active(service_app, token):
    response = Client().post(
        reverse("oauth2_provider:introspect"),
        {"token": token},
        **basic_auth(service_app.client_id, CLIENT_SECRET),
    )
    assert response.status_code == 200, response.content
    return response.json()["active"]


def backend_authenticates(token):
    """What OAuth2TokenMiddleware asks: does the backend log the token's user in?"""
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}")
    return OAuth2Backend().authenticate(request=request) is not None


# Each probe asks one view whether it honours the tokens: True if it serves them.
PROBES = {
    "protected view": lambda app, service_app, tokens: bearer("/api/", tokens["access_token"]),
    "Django REST framework": lambda app, service_app, tokens: bearer("/drf/", tokens["access_token"]),
    "ID token as bearer": lambda app, service_app, tokens: bearer("/api/", tokens["id_token"]),
    "UserInfo": lambda app, service_app, tokens: bearer(
        reverse("oauth2_provider:user-info"), tokens["access_token"]
    ),
    "authentication backend": lambda app, service_app, tokens: backend_authenticates(tokens["access_token"]),
    "introspection": lambda app, service_app, tokens: introspects_active(service_app, tokens["access_token"]),
    "refresh": lambda app, service_app, tokens: (
        refresh(Client(), app, tokens["refresh_token"]).status_code == 200
    ),
}


@pytest.fixture(params=list(PROBES))
def probe(request):
    return PROBES[request.param]


@pytest.fixture
def oidc_tokens(signed_in_client, oidc_app):
    return issued_tokens(signed_in_client, oidc_app, scope="openid read")


def test_every_view_honours_the_tokens_of_a_usable_application_and_active_user(
    probe, oidc_app, service_app, oidc_tokens
):
    assert probe(oidc_app, service_app, oidc_tokens)


def test_no_view_honours_the_tokens_of_an_application_that_is_not_usable(
    probe, oidc_app, service_app, oidc_tokens, monkeypatch
):
    # is_usable() is the hook a project's Application model overrides to disable a client (upstream #1260).
    monkeypatch.setattr(Application, "is_usable", lambda self, request: self.pk != oidc_app.pk)

    assert not probe(oidc_app, service_app, oidc_tokens)


def test_no_view_honours_the_tokens_of_a_deactivated_user(
    probe, oidc_app, service_app, oidc_tokens, resource_owner
):
    resource_owner.is_active = False
    resource_owner.save()

    assert not probe(oidc_app, service_app, oidc_tokens)


def test_a_pending_code_of_a_deactivated_user_is_not_redeemed(signed_in_client, oidc_app, resource_owner):
    code = obtain_code(signed_in_client, oidc_app, scope="openid read")
    resource_owner.is_active = False
    resource_owner.save()

    assert_oauth_error(exchange_code(Client(), oidc_app, code), 400, "invalid_grant")


@pytest.fixture
def inactive_users_may_sign_in(settings):
    # Django's own way to let inactive users sign in, and so the explicit opt-in to serve their tokens.
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]


def test_a_site_that_lets_inactive_users_sign_in_serves_their_tokens(
    probe, oidc_app, service_app, oidc_tokens, resource_owner, inactive_users_may_sign_in
):
    resource_owner.is_active = False
    resource_owner.save()

    assert probe(oidc_app, service_app, oidc_tokens)


def test_a_site_that_lets_inactive_users_sign_in_redeems_their_codes(
    inactive_users_may_sign_in, signed_in_client, oidc_app, resource_owner
):
    code = obtain_code(signed_in_client, oidc_app, scope="openid read")
    resource_owner.is_active = False
    resource_owner.save()

    assert exchange_code(Client(), oidc_app, code).status_code == 200


# 3. Public clients that authenticate with nothing


@pytest.fixture
def secretless_public_app(make_app):
    """A public client registered with an empty secret, as the registration form allows for one."""
    return make_app("secretless", client_type=Application.CLIENT_PUBLIC, client_secret="")


def introspect_as(credentials, token, data=None):
    return Client().post(
        reverse("oauth2_provider:introspect"), {"token": token, **(data or {})}, **credentials
    )


def test_a_public_client_id_alone_does_not_open_introspection(
    signed_in_client, code_app, without_pkce, secretless_public_app
):
    token = issued_tokens(signed_in_client, code_app)["access_token"]

    response = introspect_as({}, token, {"client_id": secretless_public_app.client_id})

    assert response.status_code == 403


def test_a_public_clients_secret_does_not_open_introspection(
    signed_in_client, code_app, without_pkce, make_app
):
    # A public client's secret ships inside the client: whoever has the app has it.
    public_app = make_app("public with a secret", client_type=Application.CLIENT_PUBLIC)
    token = issued_tokens(signed_in_client, code_app)["access_token"]

    assert introspect_as(basic_auth(public_app.client_id, CLIENT_SECRET), token).status_code == 403


def test_a_confidential_client_introspects(signed_in_client, code_app, without_pkce, service_app):
    token = issued_tokens(signed_in_client, code_app)["access_token"]

    response = introspect_as(basic_auth(service_app.client_id, CLIENT_SECRET), token)

    assert response.status_code == 200
    assert response.json()["active"] is True


def public_service_app(make_app, **fields):
    """A public client-credentials application, registered before this release (the form refuses it now)."""
    return make_app(
        "public service",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        redirect_uris="",
        **fields,
    )


def test_a_public_client_credentials_application_gives_no_token_for_its_id(make_app):
    app = public_service_app(make_app, client_secret="")

    response = post_token(Client(), {"grant_type": "client_credentials", "client_id": app.client_id})

    assert_oauth_error(response, 401, "invalid_client")


def test_a_public_client_credentials_application_gives_no_token_for_its_public_secret(make_app):
    app = public_service_app(make_app)

    response = post_token(
        Client(), {"grant_type": "client_credentials"}, basic_auth(app.client_id, CLIENT_SECRET)
    )

    assert_oauth_error(response, 400, "unauthorized_client")


def test_a_confidential_client_with_an_empty_secret_does_not_authenticate(make_app):
    app = make_app(
        "service without secret",
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        redirect_uris="",
        client_secret="",
    )

    response = post_token(Client(), {"grant_type": "client_credentials"}, basic_auth(app.client_id, ""))

    assert_oauth_error(response, 401, "invalid_client")


def test_a_secretless_public_client_still_runs_the_code_flow_with_pkce(
    signed_in_client, secretless_public_app
):
    verifier, challenge = pkce_pair()
    code = obtain_code(
        signed_in_client, secretless_public_app, code_challenge=challenge, code_challenge_method="S256"
    )

    response = exchange_code(Client(), secretless_public_app, code, secret=None, code_verifier=verifier)

    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    "client_type, grant_type, secret, field",
    [
        (Application.CLIENT_PUBLIC, Application.GRANT_CLIENT_CREDENTIALS, "a-secret", "client_type"),
        (Application.CLIENT_CONFIDENTIAL, Application.GRANT_CLIENT_CREDENTIALS, "", "client_secret"),
        (Application.CLIENT_CONFIDENTIAL, Application.GRANT_AUTHORIZATION_CODE, "", "client_secret"),
    ],
    ids=["public client credentials", "confidential without secret", "confidential code without secret"],
)
def test_registration_refuses_clients_that_authenticate_with_nothing(
    signed_in_client, client_type, grant_type, secret, field
):
    response = register(signed_in_client, client_type, grant_type, secret)

    assert response.status_code == 200
    # Shown beside the input it concerns (upstream #1343).
    assert response.context["form"].errors[field]
    assert not Application.objects.filter(client_id="attempt-client-id").exists()


def test_registration_accepts_a_confidential_client_with_a_secret(signed_in_client):
    response = register(
        signed_in_client, Application.CLIENT_CONFIDENTIAL, Application.GRANT_CLIENT_CREDENTIALS, "a-secret"
    )

    assert response.status_code == 302, response.context["form"].errors
    assert Application.objects.filter(client_id="attempt-client-id").exists()


def register(browser, client_type, grant_type, secret):
    """Submit the registration form as its signed-in user would."""
    fields = {
        "name": "attempt",
        "client_id": "attempt-client-id",
        "client_secret": secret,
        "client_type": client_type,
        "authorization_grant_type": grant_type,
        "redirect_uris": "https://client.example.com/callback",
        "post_logout_redirect_uris": "",
        "allowed_origins": "",
        "algorithm": "",
    }
    return browser.post(reverse("oauth2_provider:register"), fields)


# 1. Tokens in a URL query (response_mode=query with a response type that returns tokens)


@pytest.fixture
def trusted_implicit_app(oidc, make_app):
    """An implicit client the user need not approve again: its tokens come without any page shown."""
    return make_app(
        "trusted implicit",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_IMPLICIT,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )


@pytest.fixture
def hybrid_app(oidc, make_app):
    return make_app(
        "hybrid",
        authorization_grant_type=Application.GRANT_OPENID_HYBRID,
        algorithm=Application.RS256_ALGORITHM,
    )


def assert_no_token_leaves_in_a_query(response):
    assert response.status_code in (302, 400), response.content
    location = response.get("Location", "")
    for name in ("access_token", "id_token", "code"):
        assert f"{name}=" not in location, location
    if location:
        # Refused at the client's redirect URI, as an authorization error (RFC 6749 section 4.2.2.1).
        assert location_params(response)["error"] == "invalid_request"


@pytest.mark.parametrize("response_type", ["token", "id_token", "id_token token"])
def test_implicit_tokens_are_never_sent_in_a_query(signed_in_client, trusted_implicit_app, response_type):
    params = authorization_params(
        trusted_implicit_app,
        response_type=response_type,
        response_mode="query",
        scope="openid read",
        nonce="n",
    )

    assert_no_token_leaves_in_a_query(signed_in_client.get(authorize_url(params)))


@pytest.mark.parametrize("response_type", ["code token", "code id_token", "code id_token token"])
def test_the_consent_form_does_not_send_hybrid_tokens_in_a_query(signed_in_client, hybrid_app, response_type):
    params = authorization_params(
        hybrid_app, response_type=response_type, response_mode="query", scope="openid read", nonce="n"
    )
    url = authorize_url(params)

    assert_no_token_leaves_in_a_query(signed_in_client.get(url))
    # The consent form posts back to the same URL, query included.
    assert_no_token_leaves_in_a_query(signed_in_client.post(url, {**params, "allow": "Authorize"}))


def test_implicit_tokens_still_come_in_the_fragment(signed_in_client, trusted_implicit_app):
    params = authorization_params(
        trusted_implicit_app, response_type="token", response_mode="fragment", scope="read"
    )

    response = signed_in_client.get(authorize_url(params))

    assert "access_token" in location_params(response, part="fragment")


def test_codes_may_still_come_in_a_query(signed_in_client, code_app, without_pkce):
    params = authorization_params(code_app, response_mode="query")

    response = consent(signed_in_client, params)

    assert "code" in location_params(response)


# 7. OpenID Connect authorization parameters: max_age, id_token_hint, prompt=consent


@pytest.fixture
def trusted_rp(oidc, make_app):
    """A relying party the user need not approve (skip_authorization): codes come without any page."""
    return make_app("trusted relying party", algorithm=Application.RS256_ALGORITHM, skip_authorization=True)


def signed_in_since(browser, user, age):
    browser.force_login(user)
    # Logging in set last_login to now; the session is as old as ``age`` says.
    type(user).objects.filter(pk=user.pk).update(last_login=timezone.now() - age)


def oidc_authorize(browser, app, **params):
    query = authorization_params(app, scope="openid", nonce="n", **params)
    return browser.get(authorize_url(query))


def redirected_to_login(response):
    return response.status_code == 302 and response["Location"].startswith(settings.LOGIN_URL)


def test_a_session_older_than_max_age_must_log_in_again(client, trusted_rp, resource_owner):
    signed_in_since(client, resource_owner, timedelta(days=2))

    response = oidc_authorize(client, trusted_rp, max_age="3600")

    assert redirected_to_login(response), response.get("Location")
    # Back from the login page the request carries no max_age: the login just made satisfies it.
    assert "max_age" not in unquote(response["Location"])


def test_a_session_older_than_max_age_gets_login_required_without_a_page(client, trusted_rp, resource_owner):
    signed_in_since(client, resource_owner, timedelta(days=2))

    response = oidc_authorize(client, trusted_rp, max_age="3600", prompt="none")

    assert location_params(response)["error"] == "login_required"


def test_a_session_younger_than_max_age_gets_its_code(client, trusted_rp, resource_owner):
    signed_in_since(client, resource_owner, timedelta(minutes=10))

    response = oidc_authorize(client, trusted_rp, max_age="3600")

    assert "code" in location_params(response)


@pytest.mark.parametrize("max_age", ["-1", "1e3", "soon", "9" * 30])
def test_a_max_age_that_is_no_number_of_seconds_is_invalid_request(
    client, trusted_rp, resource_owner, max_age
):
    signed_in_since(client, resource_owner, timedelta(minutes=10))

    response = oidc_authorize(client, trusted_rp, max_age=max_age)

    assert location_params(response)["error"] == "invalid_request"


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", "bob-password-1")


def id_token_of(user, app):
    browser = Client()
    browser.force_login(user)
    return issued_tokens(browser, app, scope="openid")["id_token"]


@pytest.mark.parametrize("prompt", ["none", None], ids=["prompt=none", "no prompt"])
def test_another_users_id_token_hint_gets_login_required(signed_in_client, oidc_app, trusted_rp, bob, prompt):
    hint = id_token_of(bob, oidc_app)
    extra = {"prompt": prompt} if prompt else {}

    response = oidc_authorize(signed_in_client, trusted_rp, id_token_hint=hint, **extra)

    assert location_params(response)["error"] == "login_required"


def test_an_unsigned_id_token_hint_gets_login_required(signed_in_client, oidc_app, trusted_rp):
    own = id_token_of(get_user(signed_in_client), oidc_app)
    header, payload, _signature = own.split(".")
    unsigned = base64.urlsafe_b64encode(b'{"alg": "none"}').rstrip(b"=").decode() + f".{payload}."

    response = oidc_authorize(signed_in_client, trusted_rp, id_token_hint=unsigned, prompt="none")

    assert location_params(response)["error"] == "login_required"


def test_the_users_own_id_token_hint_gets_a_code_without_a_page(signed_in_client, oidc_app, trusted_rp):
    hint = id_token_of(get_user(signed_in_client), oidc_app)

    response = oidc_authorize(signed_in_client, trusted_rp, id_token_hint=hint, prompt="none")

    assert "code" in location_params(response)


def test_prompt_consent_shows_the_consent_page_to_a_trusted_client(signed_in_client, trusted_rp):
    response = oidc_authorize(signed_in_client, trusted_rp, prompt="consent")

    assert response.status_code == 200, response.get("Location")
    assert "form" in response.context
