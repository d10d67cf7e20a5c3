"""Fixtures and helpers shared by the end-to-end tests of the authorization server.

tests/conftest.py loads this file as a plugin (its fixtures); test modules import the plain helpers.
Every application is registered with ``REDIRECT_URI`` and the cleartext ``CLIENT_SECRET`` (stored hashed).
"""

import base64
import functools
import hashlib
import json
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from jwcrypto import jwk

from oauth2_provider._checksum import token_checksum
from oauth2_provider.models import get_access_token_model, get_application_model, get_refresh_token_model


CLIENT_SECRET = "client-secret-in-clear"
REDIRECT_URI = "https://client.example.com/callback"
OWNER_PASSWORD = "owner-password-1"

# The URLconf of the flow tests (``pytest.mark.urls``): oauth2_provider.urls under /o/.
FLOW_URLS = "tests.flow_urls"


@functools.cache
def rsa_pem(name="provider"):
    """A 2048-bit RSA private key in PEM, one per name and test session (generating one takes a while)."""
    return jwk.JWK.generate(kty="RSA", size=2048).export_to_pem(private_key=True, password=None).decode()


# --- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture
def resource_owner(db):
    """The end user who signs in and approves (or denies) clients."""
    return get_user_model().objects.create_user("alice", "alice@example.com", OWNER_PASSWORD)


@pytest.fixture
def signed_in_client(client, resource_owner):
    """Django's test client with ``resource_owner`` signed in."""
    client.force_login(resource_owner)
    return client


@pytest.fixture
def make_app(db):
    """Register an application; keyword arguments override the model field defaults chosen here."""

    def make(name, **fields):
        values = {
            "name": name,
            "client_type": get_application_model().CLIENT_CONFIDENTIAL,
            "authorization_grant_type": get_application_model().GRANT_AUTHORIZATION_CODE,
            "redirect_uris": REDIRECT_URI,
            "client_secret": CLIENT_SECRET,
        }
        values.update(fields)
        return get_application_model().objects.create(**values)

    return make


@pytest.fixture
def code_app(make_app):
    """A confidential client of the authorization code grant."""
    return make_app("code client")


@pytest.fixture
def public_app(make_app):
    """A public (browser or native) client of the authorization code grant."""
    return make_app("public client", client_type=get_application_model().CLIENT_PUBLIC)


@pytest.fixture
def implicit_app(make_app):
    return make_app(
        "implicit client",
        client_type=get_application_model().CLIENT_PUBLIC,
        authorization_grant_type=get_application_model().GRANT_IMPLICIT,
    )


@pytest.fixture
def password_app(make_app):
    return make_app(
        "password client",
        authorization_grant_type=get_application_model().GRANT_PASSWORD,
        redirect_uris="",
    )


@pytest.fixture
def service_app(make_app):
    """A confidential client of the client credentials grant (also the resource server that introspects)."""
    return make_app(
        "service client",
        authorization_grant_type=get_application_model().GRANT_CLIENT_CREDENTIALS,
        redirect_uris="",
    )


@pytest.fixture
def provider_settings(settings):
    """Set ``OAUTH2_PROVIDER`` keys for one test: ``provider_settings(ROTATE_REFRESH_TOKEN=False)``.

    Assigning the setting through pytest-django sends ``setting_changed``, which reloads
    ``oauth2_settings``; the fixture restores the original value afterwards.
    """

    def configure(**keys):
        settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, **keys}

    return configure


@pytest.fixture
def without_pkce(provider_settings):
    """DOT requires PKCE by default; the plain RFC 6749 code flow needs it switched off."""
    provider_settings(PKCE_REQUIRED=False)


# --- requests ---------------------------------------------------------------------------------------------


def basic_auth(client_id, secret):
    """The ``Authorization: Basic`` header of RFC 6749 section 2.3.1 (id and secret form-encoded first)."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")}


def pkce_pair(method="S256"):
    """A fresh ``(code_verifier, code_challenge)`` for ``method`` (RFC 7636 section 4.1 and 4.2)."""
    verifier = secrets.token_urlsafe(48)
    if method == "plain":
        return verifier, verifier
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_params(app, **params):
    """Query parameters of an authorization request by ``app``; keyword arguments add or replace some."""
    values = {
        "client_id": app.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": "read write",
        "state": "state-" + secrets.token_hex(4),
    }
    values.update(params)
    return values


def authorize_url(params):
    return reverse("oauth2_provider:authorize") + "?" + urlencode(params)


class _FormFields(HTMLParser):
    """Collects the name and value of every ``<input>`` of a page, as a browser would submit them."""

    def __init__(self):
        super().__init__()
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") and attrs.get("type") != "submit":
            self.fields[attrs["name"]] = attrs.get("value") or ""


def form_fields(html):
    """The non-submit ``<input>`` fields of ``html`` as ``{name: value}``."""
    parser = _FormFields()
    parser.feed(html)
    return parser.fields


def consent(client, params, allow=True, tamper=None):
    """Open the consent page for ``params`` and submit its form, approving or denying.

    ``tamper`` replaces hidden fields before submitting, as a hostile user agent could. Returns the
    response to the submission.
    """
    url = authorize_url(params)
    page = client.get(url)
    assert page.status_code == 200, page.content
    data = form_fields(page.content.decode())
    data.update(tamper or {})
    if allow:
        data["allow"] = "Authorize"
    return client.post(url, data)


def location_params(response, part="query"):
    """The parameters a redirect passes to the client, from the query or the fragment of its Location."""
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    return dict(parse_qsl(getattr(location, part), keep_blank_values=True))


def obtain_code(client, app, **params):
    """Run the consent step for ``app`` and return the authorization code from the redirect."""
    response = consent(client, authorization_params(app, **params))
    return location_params(response)["code"]


def post_token(client, data, headers=None, query=""):
    """POST form ``data`` to the token endpoint (``query`` is appended to its URL verbatim)."""
    url = reverse("oauth2_provider:token") + (f"?{query}" if query else "")
    return client.post(url, data, **(headers or {}))


def exchange_code(client, app, code, secret=CLIENT_SECRET, **extra):
    """Redeem ``code`` for tokens, authenticating ``app`` with HTTP Basic unless ``secret`` is None."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, **extra}
    if secret is None:
        data.setdefault("client_id", app.client_id)
        return post_token(client, data)
    return post_token(client, data, basic_auth(app.client_id, secret))


def refresh(client, app, refresh_token, **extra):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    return post_token(client, data, basic_auth(app.client_id, CLIENT_SECRET))


def revoke(client, app, token, hint=None, secret=CLIENT_SECRET):
    """POST ``token`` to the RFC 7009 revocation endpoint, authenticated as ``app``."""
    data = {"token": token, **({"token_type_hint": hint} if hint else {})}
    return client.post(reverse("oauth2_provider:revoke-token"), data, **basic_auth(app.client_id, secret))


def password_grant(client, app, username="alice", password=OWNER_PASSWORD, **extra):
    data = {"grant_type": "password", "username": username, "password": password, **extra}
    return post_token(client, data, basic_auth(app.client_id, CLIENT_SECRET))


def issued_tokens(client, app, **params):
    """Tokens issued to ``app`` through the authorization code grant, as the token endpoint's JSON."""
    response = exchange_code(client, app, obtain_code(client, app, **params))
    assert response.status_code == 200, response.content
    return response.json()


# --- assertions and lookups -------------------------------------------------------------------------------


def assert_oauth_error(response, status, error):
    """``response`` is an RFC 6749 section 5.2 error: JSON body with ``error``, the given status."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert body["error"] == error, body
    if status == 401:
        # RFC 6749 section 5.2 / RFC 6750 section 3: a 401 names its authentication scheme.
        assert "WWW-Authenticate" in response
    return body


def assert_error_page(response, error="invalid_request"):
    """The authorization endpoint refused to redirect: it shows the error to the user (RFC 6749 4.1.2.1)."""
    assert response.status_code == 400, response.content
    assert not response.has_header("Location")
    assert response.context["error"].error == error


def access_token_row(value):
    """The stored access token with this value, or None (looked up by checksum, like the provider)."""
    return get_access_token_model().objects.filter(token_checksum=token_checksum(value)).first()


def refresh_token_row(value):
    return get_refresh_token_model().objects.filter(token=value).first()


def sent_statements(captured):
    """The SQL of a ``CaptureQueriesContext``, without SQLite's ``BEGIN``: Django sends that one itself,
    while the PostgreSQL and MySQL drivers open their transactions out of its sight."""
    return [query["sql"].strip() for query in captured.captured_queries if query["sql"].strip() != "BEGIN"]
