"""Attacks beyond every DOT release, third pass (issue 26), each driven through the real views.

Every attack has a control beside it, the legitimate request that is still served, so that a refusal means
the attack was recognised and not that the set-up was broken.
"""

import pytest
from django.test import Client
from django.urls import include, path, reverse

from oauth2_provider.models import get_application_model

from .flow_helpers import CLIENT_SECRET, assert_oauth_error, basic_auth, issued_tokens, post_token, rsa_pem


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
