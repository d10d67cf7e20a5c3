"""The authorization, token and revocation endpoints under hostile or unusual input.

Whatever a client sends, the answer is a 4xx: an OAuth2 error (JSON from the token endpoints, the error
page or a redirect to the client from the authorization endpoint), or Django's own 400/405 for requests
no endpoint may read. Never a 500. Also the consent page itself and the ``app_authorized`` signal.
"""

import json

import pytest
from django.core.exceptions import DisallowedRedirect
from django.test import Client
from django.urls import reverse

from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.models import get_access_token_model, get_grant_model
from oauth2_provider.signals import app_authorized
from oauth2_provider.views import TokenView
from tests.flow_helpers import (
    CLIENT_SECRET,
    FLOW_URLS,
    OWNER_PASSWORD,
    REDIRECT_URI,
    access_token_row,
    assert_oauth_error,
    authorization_params,
    authorize_url,
    basic_auth,
    consent,
    form_fields,
    location_params,
    password_grant,
)


pytestmark = pytest.mark.urls(FLOW_URLS)

HUGE = "x" * 200_000


@pytest.fixture
def client():
    # Server errors become 500 responses, as in production, instead of exceptions in the test.
    return Client(raise_request_exception=False)


def token_url(name="oauth2_provider:token"):
    return reverse(name)


# --- malformed bodies and content types -------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"\xff\xfe\xfa",
        b"[1, 2]",
        b'"grant_type"',
        b"42",
        b"",
        # Valid JSON whose escape decodes to a lone surrogate, a string no UTF-8 encoder accepts.
        b'{"grant_type": "password", "username": "\\ud800", "password": "x"}',
    ],
    ids=["broken", "not-utf8", "array", "string", "number", "empty", "lone-surrogate"],
)
def test_json_token_endpoint_answers_a_malformed_body_with_an_oauth2_error(client, password_app, raw):
    response = client.post(
        token_url("json-token"),
        raw,
        content_type="application/json",
        **basic_auth(password_app.client_id, CLIENT_SECRET),
    )
    # An unreadable body carries no parameters; oauthlib names a missing grant type as unsupported.
    assert_oauth_error(response, 400, "unsupported_grant_type")


def test_json_token_endpoint_issues_a_token_for_a_json_body(client, password_app, resource_owner):
    body = {"grant_type": "password", "username": "alice", "password": OWNER_PASSWORD}
    response = client.post(
        token_url("json-token"),
        json.dumps(body),
        content_type="application/json",
        **basic_auth(password_app.client_id, CLIENT_SECRET),
    )
    assert response.status_code == 200, response.content
    assert access_token_row(response.json()["access_token"]) is not None


def test_json_values_that_are_not_strings_give_an_oauth2_error(client, password_app, resource_owner):
    body = {"grant_type": ["password"], "username": {"a": 1}, "password": None}
    response = client.post(
        token_url("json-token"),
        json.dumps(body),
        content_type="application/json",
        **basic_auth(password_app.client_id, CLIENT_SECRET),
    )
    assert_oauth_error(response, 400, "unsupported_grant_type")
    assert not get_access_token_model().objects.exists()


@pytest.mark.parametrize(
    "content_type, raw",
    [
        ("application/json", json.dumps({"grant_type": "password"})),
        ("text/plain", "grant_type=password&username=alice"),
        ("application/xml", "<grant_type>password</grant_type>"),
        ("multipart/form-data; boundary=zzz", "--zzz\r\nContent-Disposition: broken\r\n\r\nvalue"),
        ("multipart/form-data", "no boundary at all"),
    ],
)
def test_form_token_endpoint_answers_other_content_types_with_an_oauth2_error(
    client, password_app, content_type, raw
):
    response = client.post(
        token_url(), raw, content_type=content_type, **basic_auth(password_app.client_id, CLIENT_SECRET)
    )
    # Only a form-encoded body is read (RFC 6749 section 4.3.2): here the request has no grant type.
    assert_oauth_error(response, 400, "unsupported_grant_type")


@pytest.mark.parametrize("query", ["a=%zz", "a=%", "state=%%7A", "x=%e2%82"])
def test_token_endpoint_answers_a_broken_percent_escape_with_invalid_request(client, password_app, query):
    response = client.post(
        f"{token_url()}?{query}",
        {"grant_type": "password", "username": "alice", "password": "x"},
        **basic_auth(password_app.client_id, CLIENT_SECRET),
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_revocation_endpoint_answers_a_broken_percent_escape_with_invalid_request(client, password_app):
    response = client.post(
        f"{reverse('oauth2_provider:revoke-token')}?a=%zz",
        {"token": "whatever"},
        **basic_auth(password_app.client_id, CLIENT_SECRET),
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_authorization_endpoint_shows_a_broken_percent_escape_as_an_error_page(signed_in_client, code_app):
    url = authorize_url(authorization_params(code_app)) + "&junk=%zz"
    response = signed_in_client.get(url)
    assert response.status_code == 400
    assert not response.has_header("Location")
    assert response.context["error"].error == "invalid_request"


def test_unreadable_basic_credentials_are_an_invalid_client(client, password_app):
    for header in ("Basic !!!not-base64!!!", "Basic " + "w6k=", "Bearer", "Basic"):
        response = client.post(token_url(), {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=header)
        # RFC 6749 section 5.2: failed client authentication is a 401 invalid_client.
        assert_oauth_error(response, 401, "invalid_client")


# --- unusual parameter values ---------------------------------------------------------------------------


def test_non_ascii_credentials_work(client, password_app, django_user_model):
    django_user_model.objects.create_user("zoë", "zoe@example.com", "pässwörd-ø")
    response = password_grant(client, password_app, username="zoë", password="pässwörd-ø")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("value", ["ünïcödé-client", "客户端", "\u202eevil", "a\tb"])
def test_non_ascii_client_id_is_an_unknown_client(client, db, value):
    response = client.post(token_url(), {"grant_type": "client_credentials", "client_id": value})
    assert_oauth_error(response, 401, "invalid_client")


def test_nul_character_in_client_id_is_an_unknown_client(client, signed_in_client, password_app):
    # PostgreSQL refuses NUL in text: the lookup must not reach it (or fail) as a 500.
    response = client.post(token_url(), {"grant_type": "client_credentials", "client_id": "a\x00b"})
    assert_oauth_error(response, 401, "invalid_client")
    page = signed_in_client.get(authorize_url({"client_id": "a\x00b", "response_type": "code"}))
    assert page.status_code == 400


@pytest.mark.parametrize("allow", [True, False], ids=["allow", "deny"])
def test_nul_character_in_the_consent_forms_client_id_redirects_nowhere(
    signed_in_client, code_app, without_pkce, allow
):
    params = authorization_params(code_app)
    response = consent(signed_in_client, params, allow=allow, tamper={"client_id": "a\x00b"})
    # Django's form fields refuse NUL characters: the form comes back with its errors.
    assert response.status_code == 200
    assert response.context["form"].errors["client_id"]
    assert not get_grant_model().objects.exists()


# A huge authorization code is test_flows_hostile_lts.py::test_unknown_or_malformed_code[HUGE].
@pytest.mark.parametrize(
    "name, status, error",
    [
        ("client_id", 401, "invalid_client"),
        ("username", 400, "invalid_grant"),
        ("password", 400, "invalid_grant"),
        ("scope", 400, "invalid_scope"),
        ("refresh_token", 400, "invalid_grant"),
    ],
)
def test_huge_parameter_values_give_an_oauth2_error(
    client, password_app, resource_owner, name, status, error
):
    data = {"grant_type": "password", "username": "alice", "password": OWNER_PASSWORD, name: HUGE}
    if name == "refresh_token":
        data["grant_type"] = "refresh_token"
    headers = {} if name == "client_id" else basic_auth(password_app.client_id, CLIENT_SECRET)
    response = client.post(token_url(), data, **headers)
    assert_oauth_error(response, status, error)
    assert not get_access_token_model().objects.exists()


def test_huge_client_id_on_the_authorization_endpoint_is_an_error_page(signed_in_client):
    response = signed_in_client.get(authorize_url({"client_id": HUGE, "response_type": "code"}))
    assert response.status_code == 400
    assert not response.has_header("Location")


def test_body_over_djangos_upload_limit_is_a_bad_request(client, password_app, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = client.post(token_url(), {"grant_type": "password", "username": HUGE})
    assert response.status_code == 400


# --- HTTP methods ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
@pytest.mark.parametrize("name", ["oauth2_provider:token", "oauth2_provider:revoke-token"])
def test_token_endpoints_only_take_post(client, method, name):
    assert getattr(client, method)(reverse(name)).status_code == 405


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_authorization_endpoint_refuses_other_methods(signed_in_client, code_app, method):
    url = authorize_url(authorization_params(code_app))
    assert getattr(signed_in_client, method)(url).status_code == 405


def test_authorization_endpoint_treats_put_as_an_empty_consent_form(signed_in_client, code_app):
    # Django's FormView answers PUT like POST; a PUT body is never parsed, so the form is incomplete.
    response = signed_in_client.put(authorize_url(authorization_params(code_app)), "allow=on")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not get_grant_model().objects.exists()


# --- redirects ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "javascript:alert(1)",
        "data:text/html,hi",
        "ftp://example.com/",
        "//example.com/",
        "/relative",
        "http://[::1",
    ],
)
def test_oauth2_redirect_refuses_what_is_not_an_allowed_absolute_uri(target):
    with pytest.raises(DisallowedRedirect):
        OAuth2ResponseRedirect(target, ["http", "https"])


def test_oauth2_redirect_to_an_allowed_custom_scheme():
    response = OAuth2ResponseRedirect("com.example.app:/callback?code=ü", ["com.example.app"])
    assert response.status_code == 302
    assert response.url == "com.example.app:/callback?code=%C3%BC"


@pytest.mark.parametrize("redirect_uri", ["javascript:alert(1)", "http://[::1", "/no/scheme"])
def test_prompt_none_to_a_disallowed_redirect_uri_is_a_bad_request(client, code_app, redirect_uri):
    params = authorization_params(code_app, prompt="none", redirect_uri=redirect_uri)
    response = client.get(authorize_url(params))
    assert response.status_code == 400
    assert not response.has_header("Location")


# --- the consent page -----------------------------------------------------------------------------------


def test_consent_page_renders_the_request_in_hidden_fields(signed_in_client, code_app, without_pkce):
    params = authorization_params(code_app, state="s-1")
    page = signed_in_client.get(authorize_url(params))
    assert page.status_code == 200
    assert [t.name for t in page.templates][:2] == [
        "oauth2_provider/authorize.html",
        "oauth2_provider/base.html",
    ]
    assert page.context["application"] == code_app
    assert page.context["scopes"] == ["read", "write"]
    assert page.context["scopes_descriptions"] == ["Reading scope", "Writing scope"]
    html = page.content.decode()
    assert code_app.name in html and "Reading scope" in html
    fields = form_fields(html)
    assert fields["client_id"] == code_app.client_id
    assert fields["redirect_uri"] == REDIRECT_URI
    assert fields["scope"] == "read write"
    assert fields["state"] == "s-1"
    assert fields["response_type"] == "code"
    assert 'name="allow"' in html


def test_allow_redirects_with_a_code(signed_in_client, code_app, without_pkce):
    params = authorization_params(code_app)
    location = location_params(consent(signed_in_client, params, allow=True))
    assert location["state"] == params["state"]
    assert get_grant_model().objects.filter(code=location["code"], application=code_app).exists()


def test_deny_redirects_with_access_denied(signed_in_client, code_app, without_pkce):
    params = authorization_params(code_app)
    location = location_params(consent(signed_in_client, params, allow=False))
    assert location == {"error": "access_denied", "state": params["state"]}
    assert not get_grant_model().objects.exists()


def test_consent_form_naming_an_unknown_client_is_an_error_page(signed_in_client, code_app, without_pkce):
    response = consent(signed_in_client, authorization_params(code_app), tamper={"client_id": "nobody"})
    assert response.status_code == 400
    assert not response.has_header("Location")
    assert response.context["error"].error == "invalid_request"


def test_incomplete_consent_form_is_shown_again_with_its_errors(signed_in_client, code_app):
    response = signed_in_client.post(reverse("oauth2_provider:authorize"), {"allow": "on"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_consent_page_accepts_non_ascii_state(signed_in_client, code_app, without_pkce):
    params = authorization_params(code_app, state="état-☃")
    location = location_params(consent(signed_in_client, params))
    assert location["state"] == "état-☃"


# --- app_authorized -------------------------------------------------------------------------------------


@pytest.fixture
def authorized_signals():
    received = []

    def receiver(sender, request, token, **kwargs):
        received.append((sender, token))

    app_authorized.connect(receiver)
    yield received
    app_authorized.disconnect(receiver)


def test_app_authorized_is_sent_once_per_issued_token(
    client, password_app, resource_owner, authorized_signals
):
    response = password_grant(client, password_app)
    assert response.status_code == 200
    token = access_token_row(response.json()["access_token"])
    assert len(authorized_signals) == 1
    sender, sent_token = authorized_signals[0]
    assert isinstance(sender, TokenView)
    assert sent_token == token


def test_app_authorized_is_not_sent_for_a_refused_request(client, password_app, authorized_signals):
    response = password_grant(client, password_app, password="wrong")
    assert response.status_code == 400
    assert authorized_signals == []
    assert not get_access_token_model().objects.exists()
