"""Attacks beyond every DOT release, third pass (issue 26), each driven through the real views.

Every attack has a control beside it, the legitimate request that is still served, so that a refusal means
the attack was recognised and not that the set-up was broken.
"""

import json

import pytest
from django.contrib.auth import get_user
from django.test import Client
from django.urls import include, path, reverse

from oauth2_provider.models import get_application_model

from .flow_helpers import (
    CLIENT_SECRET,
    assert_oauth_error,
    authorization_params,
    authorize_url,
    basic_auth,
    issued_tokens,
    post_token,
    rsa_pem,
)


urlpatterns = [path("o/", include("oauth2_provider.urls"))]

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
