"""Bug fixes of upstream 3.4.1 inside the 3.0.1 API, found by running its own test suite against ours.

Each section names the upstream change; every test fails on the code before the fix.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings

from tests.flow_helpers import (
    FLOW_URLS,
    REDIRECT_URI,
    authorization_params,
    authorize_url,
    location_params,
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
    client, code_app, resource_owner, without_pkce, oidc_provider, prompt  # noqa: F811
):
    oidc_provider(ALWAYS_RELOAD_OAUTHLIB_CORE=True)
    params = authorization_params(code_app, scope="openid", prompt=prompt)
    for browser_is_signed_in in (False, True):
        if browser_is_signed_in:
            client.force_login(resource_owner)
        response = client.get(authorize_url(params))

        assert response["Location"].startswith(REDIRECT_URI + "?")
        assert location_params(response)["error"] == "invalid_request"
