"""A real OAuth2 client library (requests-oauthlib) against the provider served over HTTP by ``live_server``.

The browser part of the authorization code grant is played by a ``requests.Session`` carrying the session
cookie of a signed-in user: it opens the consent page, submits its form and stops at the redirect to the
client, whose Location carries the code.
"""

import pytest
import requests
from django.conf import settings
from oauthlib.oauth2 import BackendApplicationClient
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from tests.flow_helpers import CLIENT_SECRET, FLOW_URLS, REDIRECT_URI, access_token_row, form_fields


pytestmark = pytest.mark.urls(FLOW_URLS)

SERVICE_SECRET = "service-secret-in-clear"


@pytest.fixture
def browser(client, resource_owner):
    """A requests session signed in as ``resource_owner`` (the cookie comes from Django's test client)."""
    client.force_login(resource_owner)
    session = requests.Session()
    session.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
    return session


def approve_in_browser(browser, authorization_url):
    """Open the consent page, approve, and return the redirect URL meant for the client."""
    page = browser.get(authorization_url)
    assert page.status_code == 200, page.text
    approval = browser.post(
        authorization_url, data={**form_fields(page.text), "allow": "Authorize"}, allow_redirects=False
    )
    assert approval.status_code == 302, approval.text
    return approval.headers["Location"]


@pytest.fixture
def plain_http_allowed(monkeypatch):
    """oauthlib refuses http URLs unless told this is a test; live_server speaks plain http."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.mark.usefixtures("transactional_db", "plain_http_allowed")
def test_requests_oauthlib_client(live_server, browser, make_app, resource_owner):
    web_app = make_app("live web client")
    service_app = make_app(
        "live service",
        authorization_grant_type="client-credentials",
        redirect_uris="",
        client_secret=SERVICE_SECRET,
    )
    token_url = f"{live_server.url}/o/token/"

    session = OAuth2Session(web_app.client_id, redirect_uri=REDIRECT_URI, scope="read write", pkce="S256")
    authorization_url, _state = session.authorization_url(f"{live_server.url}/o/authorize/")
    assert "code_challenge=" in authorization_url
    callback = approve_in_browser(browser, authorization_url)
    assert callback.startswith(REDIRECT_URI + "?")

    token = session.fetch_token(token_url, authorization_response=callback, client_secret=CLIENT_SECRET)

    assert token["token_type"] == "Bearer"
    assert token["scope"] == ["read", "write"]
    assert access_token_row(token["access_token"]).user == resource_owner

    renewed = session.refresh_token(token_url, auth=HTTPBasicAuth(web_app.client_id, CLIENT_SECRET))

    assert renewed["access_token"] != token["access_token"]
    assert renewed["refresh_token"] != token["refresh_token"]
    assert access_token_row(token["access_token"]) is None
    introspection = requests.post(
        f"{live_server.url}/o/introspect/",
        data={"token": renewed["access_token"]},
        auth=(service_app.client_id, SERVICE_SECRET),
    )
    assert introspection.status_code == 200
    assert introspection.json()["active"] is True
    assert introspection.json()["username"] == resource_owner.username

    machine = OAuth2Session(client=BackendApplicationClient(client_id=service_app.client_id))
    service_token = machine.fetch_token(token_url, client_secret=SERVICE_SECRET)

    assert "refresh_token" not in service_token
    stored = access_token_row(service_token["access_token"])
    assert (stored.application, stored.user) == (service_app, None)
