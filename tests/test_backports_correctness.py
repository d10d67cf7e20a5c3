"""Bug fixes of upstream 3.4.1 inside the 3.0.1 API, found by running its own test suite against ours.

Each section names the upstream change; every test fails on the code before the fix.
"""

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.template import Context, Template
from django.urls import reverse

from tests.flow_helpers import (
    FLOW_URLS,
    REDIRECT_URI,
    authorization_params,
    authorize_url,
    exchange_code,
    location_params,
    obtain_code,
    post_token,
)
from tests.test_backports_views import oidc_provider  # noqa: F401 (a fixture)


pytestmark = [pytest.mark.urls(FLOW_URLS), pytest.mark.django_db]


# prompt is a space-delimited list (OpenID Connect Core 1.0 section 3.1.2.1), not one string


def login_redirect_next(response):
    """The ``next`` URL of a redirect to the login page."""
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == django_settings.LOGIN_URL
    return parse_qs(location.query)["next"][0]


@pytest.mark.parametrize("prompt", ["login", "login consent"])
def test_anonymous_prompt_login_logs_in_once(client, code_app, resource_owner, without_pkce, prompt):
    next_url = login_redirect_next(client.get(authorize_url(authorization_params(code_app, prompt=prompt))))
    assert "prompt" not in parse_qs(urlsplit(next_url).query)

    client.force_login(resource_owner)
    consent_page = client.get(next_url)

    assert consent_page.status_code == 200
    assert consent_page.context["application"] == code_app


def test_signed_in_prompt_login_among_other_values_asks_to_log_in(signed_in_client, code_app, without_pkce):
    response = signed_in_client.get(authorize_url(authorization_params(code_app, prompt="consent login")))
    assert "prompt" not in parse_qs(urlsplit(login_redirect_next(response)).query)


@pytest.mark.parametrize("prompt", ["none login", "login none", "none consent"])
def test_prompt_none_with_another_value_is_an_invalid_request(
    client,
    code_app,
    resource_owner,
    without_pkce,
    oidc_provider,  # noqa: F811
    prompt,
):
    oidc_provider(ALWAYS_RELOAD_OAUTHLIB_CORE=True)
    params = authorization_params(code_app, scope="openid", prompt=prompt)
    for browser_is_signed_in in (False, True):
        if browser_is_signed_in:
            client.force_login(resource_owner)
        response = client.get(authorize_url(params))

        assert response["Location"].startswith(REDIRECT_URI + "?")
        assert location_params(response)["error"] == "invalid_request"


# Upstream #958: an application without redirect URIs in a flow that needs one


def test_missing_redirect_uri_error_page_has_no_stray_state(signed_in_client, service_app, without_pkce):
    params = {"client_id": service_app.client_id, "response_type": "code", "state": "s-1", "scope": "read"}
    response = signed_in_client.get(authorize_url(params))

    assert response.status_code == 400
    assert response.context["url"] == "?error=invalid_request&error_description=Missing+redirect+URI."


# Upstream 3.4.1: the log tells which decoding of Basic credentials failed, without quoting them


@pytest.mark.parametrize(
    "encoded, failure",
    [("not_base64!", "can't be decoded as base64"), ("//79", "can't be decoded as unicode")],
    ids=["base64", "unicode"],
)
def test_undecodable_basic_credentials_log_which_decoding_failed(client, caplog, encoded, failure):
    with caplog.at_level(logging.DEBUG, logger="oauth2_provider"):
        response = post_token(
            client, {"grant_type": "client_credentials"}, {"HTTP_AUTHORIZATION": f"Basic {encoded}"}
        )

    assert response.status_code == 401
    assert failure in caplog.text
    assert encoded not in caplog.text


# RFC 8252 section 7.1: a native app's private-use URI scheme redirect, registered and used


def test_a_native_app_registers_and_receives_the_code_at_a_private_use_uri(
    signed_in_client, make_app, provider_settings, without_pkce
):
    native_uri = "com.example.app:/oauth2redirect"
    provider_settings(ALLOWED_REDIRECT_URI_SCHEMES=["https", "com.example.app"])
    app = make_app("native", redirect_uris=native_uri)
    app.full_clean()

    code = obtain_code(signed_in_client, app, redirect_uri=native_uri)
    response = exchange_code(signed_in_client, app, code, redirect_uri=native_uri)

    assert response.status_code == 200, response.content


# Upstream #730: the pages work under a Content-Security-Policy of style-src 'self'

STYLESHEET = "oauth2_provider/css/oauth2_provider.css"


def test_the_pages_take_their_styles_from_a_static_file(signed_in_client):
    html = signed_in_client.get(reverse("oauth2_provider:list")).content.decode()

    assert "<style" not in html and " style=" not in html
    assert f'<link rel="stylesheet" href="/static/{STYLESHEET}">' in html
    assert finders.find(STYLESHEET) is not None


def test_a_project_still_replaces_the_styles_through_the_css_block():
    template = Template(
        '{% extends "oauth2_provider/base.html" %}{% block css %}<link href="/own.css">{% endblock %}'
    )
    html = template.render(Context({}))
    assert "/own.css" in html and STYLESHEET not in html
