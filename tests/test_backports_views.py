"""Backported upstream fixes (DOT 3.1.0 to 3.4.1) in the views, models and admin.

Each section names the upstream issue or pull request it covers. The module is its own URLconf: the
provider under ``/o/`` and the admin under ``/admin/``.
"""

import functools
import json
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter
from jwcrypto import jwk, jwt

from oauth2_provider import admin as provider_admin
from oauth2_provider import models as provider_models
from oauth2_provider.forms import CLIENT_SECRET_HELP_TEXT
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
    redirect_to_uri_allowed,
)
from tests.flow_helpers import (
    CLIENT_SECRET,
    REDIRECT_URI,
    access_token_row,
    assert_error_page,
    assert_oauth_error,
    authorization_params,
    authorize_url,
    basic_auth,
    issued_tokens,
    location_params,
    password_grant,
    refresh,
)


urlpatterns = [
    path("o/", include("oauth2_provider.urls")),
    path("admin/", admin.site.urls),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

Application = get_application_model()
AccessToken = get_access_token_model()
Grant = get_grant_model()
IDToken = get_id_token_model()
RefreshToken = get_refresh_token_model()

ATTACKER_URI = "https://attacker.example/steal"


# --- 3.4.0 #1719: no redirect for prompt=none before the client and redirect URI are validated -------------


def anonymous_prompt_none(client, **params):
    """An anonymous browser's ``prompt=none`` authorization request; ``None`` values are left out."""
    query = {"response_type": "code", "scope": "read", "state": "s-1", "prompt": "none", **params}
    return client.get(authorize_url({name: value for name, value in query.items() if value is not None}))


def test_prompt_none_answers_login_required_at_the_registered_redirect_uri(client, code_app, without_pkce):
    response = anonymous_prompt_none(client, client_id=code_app.client_id, redirect_uri=REDIRECT_URI)

    assert response["Location"].startswith(REDIRECT_URI + "?")
    assert location_params(response) == {"error": "login_required", "state": "s-1"}


def test_prompt_none_without_state_sends_none_back(client, code_app, without_pkce):
    response = anonymous_prompt_none(
        client, client_id=code_app.client_id, redirect_uri=REDIRECT_URI, state=None
    )

    assert location_params(response) == {"error": "login_required"}


@pytest.mark.parametrize(
    "redirect_uri",
    [
        pytest.param(ATTACKER_URI, id="foreign-host"),
        pytest.param(REDIRECT_URI + "/../../evil", id="other-path"),
        pytest.param(REDIRECT_URI + "?next=" + ATTACKER_URI, id="added-query"),
        pytest.param("https://client.example.com@attacker.example/callback", id="userinfo-trick"),
        pytest.param("javascript:alert(1)", id="javascript-scheme"),
    ],
)
def test_prompt_none_never_redirects_to_an_unregistered_uri(client, code_app, without_pkce, redirect_uri):
    response = anonymous_prompt_none(client, client_id=code_app.client_id, redirect_uri=redirect_uri)

    assert_error_page(response, "invalid_request")


@pytest.mark.parametrize(
    "client_id",
    [pytest.param("no-such-client", id="unknown-client"), pytest.param(None, id="no-client-id")],
)
def test_prompt_none_of_an_unknown_client_redirects_nowhere(client, db, client_id):
    response = anonymous_prompt_none(client, client_id=client_id, redirect_uri=ATTACKER_URI)

    assert response.status_code == 400
    assert not response.has_header("Location")


def test_prompt_none_with_another_error_reports_it_at_the_registered_uri(client, code_app, without_pkce):
    response = anonymous_prompt_none(
        client, client_id=code_app.client_id, redirect_uri=REDIRECT_URI, response_type="bogus"
    )

    assert response["Location"].startswith(REDIRECT_URI + "?")
    assert location_params(response)["error"] == "unsupported_response_type"


def test_prompt_none_without_redirect_uri_uses_the_only_registered_one(client, code_app, without_pkce):
    response = anonymous_prompt_none(client, client_id=code_app.client_id, redirect_uri=None)

    assert response["Location"].startswith(REDIRECT_URI + "?")
    assert location_params(response)["error"] == "login_required"


def test_other_anonymous_requests_still_go_to_the_login_page(client, code_app, without_pkce, settings):
    settings.LOGIN_URL = "/accounts/login/"
    response = client.get(authorize_url(authorization_params(code_app, redirect_uri=ATTACKER_URI)))

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == "/accounts/login/"


# --- 3.4.1 #1801: redirect URIs match exactly (RFC 9700 section 2.1) ---------------------------------------

REGISTERED = [
    "https://client.example/cb",
    "https://client.example/query?tenant=1&lang=en",
    "https://client.example/empty-query?",
    "http://127.0.0.1/native",
    "http://[::1]/native",
    "http://127.0.0.1:5000/fixed-port",
    "com.example.app:/oauth2redirect",
]


@pytest.mark.parametrize(
    "uri",
    [
        "https://client.example/cb",
        "HTTPS://client.example/cb",
        "https://client.example/query?tenant=1&lang=en",
        "https://client.example/empty-query?",
        "http://127.0.0.1/native",
        "http://127.0.0.1:49152/native",
        "http://[::1]:49152/native",
        "http://127.0.0.1:5000/fixed-port",
        "com.example.app:/oauth2redirect",
    ],
)
def test_registered_redirect_uris_and_loopback_ports_are_allowed(uri):
    assert redirect_to_uri_allowed(uri, REGISTERED)


@pytest.mark.parametrize(
    "uri",
    [
        pytest.param("https://client.example/cb?code=injected", id="added-query"),
        pytest.param("https://client.example/cb?", id="added-empty-query"),
        pytest.param("https://client.example/empty-query", id="dropped-empty-query"),
        pytest.param("https://client.example/query?tenant=1&lang=en&x=1", id="added-query-parameter"),
        pytest.param("https://client.example/query?lang=en&tenant=1", id="reordered-query"),
        pytest.param("https://client.example/query?tenant=1", id="dropped-query-parameter"),
        pytest.param("https://client.example/query?tenant=1&lang=%65n", id="re-encoded-query"),
        pytest.param("https://client.example/cb;evil=1", id="path-parameter"),
        pytest.param("https://client.example/cb/;evil=1", id="path-parameter-segment"),
        pytest.param("https://client.example/cb#frag", id="fragment"),
        pytest.param("https://client.example/cb#", id="empty-fragment"),
        pytest.param("https://evil@client.example/cb", id="userinfo"),
        pytest.param("https://user:pass@client.example/cb", id="userinfo-with-password"),
        pytest.param("http://evil@127.0.0.1:49152/native", id="loopback-userinfo"),
        pytest.param("http://127.0.0.1:49152/native#x", id="loopback-fragment"),
        pytest.param("http://127.0.0.1:49152/native?x=1", id="loopback-added-query"),
        pytest.param("http://127.0.0.1:5001/fixed-port", id="registered-port-kept"),
        pytest.param("http://127.0.0.1:99999/native", id="port-out-of-range"),
        pytest.param("http://127.0.0.1:port/native", id="port-not-a-number"),
        pytest.param("http://[::1/native", id="unbalanced-ipv6-bracket"),
        pytest.param("https://client.example/%63b", id="percent-encoded-path"),
        pytest.param("", id="empty"),
    ],
)
def test_anything_but_a_registered_redirect_uri_is_refused(uri):
    assert not redirect_to_uri_allowed(uri, REGISTERED)


@pytest.mark.parametrize(
    "registered",
    ["https://client.example/cb#", "https://client.example/cb#frag", "https://user@client.example/cb"],
)
def test_a_registered_uri_with_fragment_or_credentials_matches_nothing(registered):
    assert not redirect_to_uri_allowed(registered, [registered])


def test_the_authorization_endpoint_refuses_an_added_query_parameter(
    signed_in_client, code_app, without_pkce
):
    params = authorization_params(code_app, redirect_uri=REDIRECT_URI + "?next=" + ATTACKER_URI)

    assert_error_page(signed_in_client.get(authorize_url(params)), "invalid_request")


def test_post_logout_redirect_uris_match_exactly_too():
    application = Application(post_logout_redirect_uris="https://client.example/bye")

    assert application.post_logout_redirect_uri_allowed("https://client.example/bye")
    assert not application.post_logout_redirect_uri_allowed("https://client.example/bye?to=" + ATTACKER_URI)
    assert not application.post_logout_redirect_uri_allowed("https://client.example/bye;x")


def never_matches(uri, reason):
    return pytest.param(uri, f"Redirect URI {uri} can never match: {reason}.", id=reason)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        # The validator sees a bare "#" itself (upstream 3.4.1), before the matching rules would.
        pytest.param(
            "https://client.example/cb#",
            "redirect uri URI validation error. fragment not allowed: https://client.example/cb#",
            id="empty-fragment",
        ),
        never_matches("https://user@client.example/cb", "it has credentials"),
        never_matches("https://client.example:99999/cb", "its port is not a number from 0 to 65535"),
    ],
)
def test_a_redirect_uri_that_can_never_match_is_refused_at_registration(uri, message):
    application = Application(
        name="never matches",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=f"https://client.example/ok {uri}",
    )

    with pytest.raises(ValidationError) as refused:
        application.clean()

    assert refused.value.messages == [message]


# --- 3.4.0 #1736: no cleartext token or code in str() or the admin ----------------------------------------

TOKEN_VALUE = "CLEARTEXT-access-token-1234567890-wxyz"
REFRESH_VALUE = "CLEARTEXT-refresh-token-1234567890-rstu"
CODE_VALUE = "CLEARTEXT-authorization-code-123456-mnop"


@pytest.fixture
def credentials(code_app, resource_owner):
    """One access token, its refresh token and an authorization code, each with a recognisable value."""
    expires = timezone.now() + timedelta(hours=1)
    access_token = AccessToken.objects.create(
        user=resource_owner, application=code_app, token=TOKEN_VALUE, expires=expires, scope="read"
    )
    refresh_token = RefreshToken.objects.create(
        user=resource_owner, application=code_app, token=REFRESH_VALUE, access_token=access_token
    )
    grant = Grant.objects.create(
        user=resource_owner,
        application=code_app,
        code=CODE_VALUE,
        expires=expires,
        redirect_uri=REDIRECT_URI,
        scope="read",
    )
    return {"token": access_token, "refresh": refresh_token, "code": grant}


@pytest.fixture
def staff_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


CLEARTEXTS = (TOKEN_VALUE, REFRESH_VALUE, CODE_VALUE)


def assert_no_cleartext(response):
    assert response.status_code == 200
    content = response.content.decode()
    for value in CLEARTEXTS:
        assert value not in content


def test_str_of_tokens_and_codes_names_the_row_not_the_credential(credentials):
    assert str(credentials["token"]) == f"access token {credentials['token'].pk}"
    assert str(credentials["refresh"]) == f"refresh token {credentials['refresh'].pk}"
    assert str(credentials["code"]) == f"grant {credentials['code'].pk}"
    for row in credentials.values():
        assert "CLEARTEXT" not in str(row)
        assert "CLEARTEXT" not in repr(row)


@pytest.mark.parametrize(
    ("model", "value"), [(AccessToken, TOKEN_VALUE), (RefreshToken, REFRESH_VALUE), (Grant, CODE_VALUE)]
)
def test_changelists_show_credentials_masked(staff_client, credentials, model, value):
    response = staff_client.get(reverse(f"admin:oauth2_provider_{model._meta.model_name}_changelist"))

    # No credential in full, this model's own included; its own shown as an ellipsis and 4 characters.
    assert_no_cleartext(response)
    assert f"\u2026{value[-4:]}" in response.content.decode()


@pytest.mark.parametrize(
    ("model", "value"), [(AccessToken, TOKEN_VALUE), (RefreshToken, REFRESH_VALUE), (Grant, CODE_VALUE)]
)
def test_credentials_are_not_searchable_by_value(staff_client, credentials, model, value):
    url = reverse(f"admin:oauth2_provider_{model._meta.model_name}_changelist")

    by_value = staff_client.get(url, {"q": value})
    by_application = staff_client.get(url, {"q": "code client"})
    by_user = staff_client.get(url, {"q": "alice"})

    assert by_value.context["cl"].result_count == 0
    assert by_application.context["cl"].result_count == 1
    assert by_user.context["cl"].result_count == 1


@pytest.mark.parametrize(("key", "field"), [("token", "token"), ("refresh", "token"), ("code", "code")])
def test_change_pages_show_the_credential_masked_and_read_only(staff_client, credentials, key, field):
    row = credentials[key]
    url = reverse(f"admin:oauth2_provider_{row._meta.model_name}_change", args=[row.pk])

    response = staff_client.get(url)

    assert_no_cleartext(response)
    assert field not in response.context["adminform"].form.fields
    assert "\u2026" in response.content.decode()


def test_saving_a_change_page_keeps_the_credential_and_logs_no_cleartext(staff_client, credentials):
    access_token = credentials["token"]
    url = reverse("admin:oauth2_provider_accesstoken_change", args=[access_token.pk])
    form = staff_client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data["scope"] = "read write"
    data["expires_0"], data["expires_1"] = access_token.expires.strftime("%Y-%m-%d %H:%M:%S").split()

    response = staff_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    access_token.refresh_from_db()
    assert (access_token.token, access_token.scope) == (TOKEN_VALUE, "read write")
    assert all("CLEARTEXT" not in entry.object_repr for entry in LogEntry.objects.all())


class AddableAccessTokenAdmin(provider_admin.AccessTokenAdmin):
    def has_add_permission(self, request):
        return True


def test_a_subclass_that_allows_adding_keeps_the_credential_on_the_add_page(rf, admin_user):
    request = rf.get("/")
    request.user = admin_user
    model_admin = AddableAccessTokenAdmin(AccessToken, admin.site)

    assert "token" in model_admin.get_form(request)().fields


# --- 3.4.0 #1736, 3.4.1 PR #1798: tokens are issued, not typed in, and revoked, not deleted ---------------


@pytest.mark.parametrize("model", [AccessToken, RefreshToken, Grant, IDToken])
def test_grants_and_tokens_cannot_be_added_in_the_admin(staff_client, model):
    name = model._meta.model_name

    assert staff_client.get(reverse(f"admin:oauth2_provider_{name}_add")).status_code == 403
    changelist = staff_client.get(reverse(f"admin:oauth2_provider_{name}_changelist"))
    assert changelist.context["has_add_permission"] is False


@pytest.mark.parametrize(("key", "model"), [("token", AccessToken), ("refresh", RefreshToken)])
def test_access_and_refresh_tokens_are_not_deleted_in_the_admin(staff_client, credentials, key, model):
    name = model._meta.model_name
    delete_url = reverse(f"admin:oauth2_provider_{name}_delete", args=[credentials[key].pk])

    assert staff_client.get(delete_url).status_code == 403
    changelist = staff_client.get(reverse(f"admin:oauth2_provider_{name}_changelist"))
    assert "delete_selected" not in dict(changelist.context["action_form"].fields["action"].choices)


def run_admin_action(client, model, action, rows):
    url = reverse(f"admin:oauth2_provider_{model._meta.model_name}_changelist")
    return client.post(url, {"action": action, "_selected_action": [row.pk for row in rows]}, follow=True)


def test_revoking_access_tokens_in_the_admin_revokes_their_refresh_tokens(
    staff_client, client, credentials, code_app
):
    response = run_admin_action(staff_client, AccessToken, "_revoke_access_tokens", [credentials["token"]])

    assert "1 access token revoked." in response.content.decode()
    assert not AccessToken.objects.filter(pk=credentials["token"].pk).exists()
    # The refresh token is kept, revoked, and gets no new access token.
    assert RefreshToken.objects.get(pk=credentials["refresh"].pk).revoked is not None
    assert_oauth_error(refresh(client, code_app, REFRESH_VALUE), 400, "invalid_grant")


def test_revoking_refresh_tokens_in_the_admin_keeps_the_revoked_rows(staff_client, credentials):
    response = run_admin_action(
        staff_client, RefreshToken, "_revoke_refresh_tokens", [credentials["refresh"]]
    )

    assert "1 refresh token revoked." in response.content.decode()
    # The revoked row is what REFRESH_TOKEN_REUSE_PROTECTION recognises a replay by.
    assert RefreshToken.objects.get(pk=credentials["refresh"].pk).revoked is not None
    assert not AccessToken.objects.filter(pk=credentials["token"].pk).exists()


def test_deleting_an_application_lists_its_tokens_without_cleartext(staff_client, credentials, code_app):
    response = staff_client.get(reverse("admin:oauth2_provider_application_delete", args=[code_app.pk]))

    assert_no_cleartext(response)


# --- 3.3.0 #1674: changelists join only the relations they show -----------------------------------------


@pytest.mark.parametrize("model", [RefreshToken, Grant, AccessToken, IDToken])
def test_token_changelists_join_only_user_and_application(staff_client, credentials, model):
    """Without ``list_select_related`` the admin calls a bare ``select_related()``, which follows every
    non-null foreign key from the token onwards, through the user model's too (MySQL: "Too many columns")."""
    response = staff_client.get(reverse(f"admin:oauth2_provider_{model._meta.model_name}_changelist"))

    assert response.context["cl"].queryset.query.select_related == {"application": {}, "user": {}}


# --- 3.4.1 #1510: revoking an authorized token revokes its refresh token ----------------------------------


@pytest.fixture
def code_tokens(signed_in_client, code_app, without_pkce):
    return issued_tokens(signed_in_client, code_app)


def revoke_from_the_authorized_tokens_page(client, access_token):
    return client.post(reverse("oauth2_provider:authorized-token-delete", args=[access_token.pk]))


def test_revoking_an_authorized_token_revokes_its_refresh_token(signed_in_client, code_app, code_tokens):
    access_token = access_token_row(code_tokens["access_token"])

    response = revoke_from_the_authorized_tokens_page(signed_in_client, access_token)

    assert response.status_code == 302
    assert not AccessToken.objects.filter(pk=access_token.pk).exists()
    assert RefreshToken.objects.get(token=code_tokens["refresh_token"]).revoked is not None
    assert_oauth_error(refresh(Client(), code_app, code_tokens["refresh_token"]), 400, "invalid_grant")


def test_revoking_a_token_without_refresh_token_deletes_it(signed_in_client, code_app, resource_owner):
    access_token = AccessToken.objects.create(
        user=resource_owner, application=code_app, token="lone", expires=timezone.now() + timedelta(hours=1)
    )

    assert revoke_from_the_authorized_tokens_page(signed_in_client, access_token).status_code == 302
    assert not AccessToken.objects.filter(pk=access_token.pk).exists()


def test_revoking_a_token_whose_refresh_token_was_revoked_still_deletes_it(
    signed_in_client, code_app, credentials
):
    RefreshToken.objects.filter(pk=credentials["refresh"].pk).update(revoked=timezone.now())

    assert revoke_from_the_authorized_tokens_page(signed_in_client, credentials["token"]).status_code == 302
    assert not AccessToken.objects.filter(pk=credentials["token"].pk).exists()


def test_revoking_leaves_the_users_other_tokens_alone(signed_in_client, code_app, code_tokens, without_pkce):
    other = issued_tokens(signed_in_client, code_app)

    revoke_from_the_authorized_tokens_page(signed_in_client, access_token_row(code_tokens["access_token"]))

    assert access_token_row(other["access_token"]) is not None
    assert refresh(Client(), code_app, other["refresh_token"]).status_code == 200


def test_another_users_token_is_not_found_and_stays_usable(client, code_app, code_tokens, django_user_model):
    client.force_login(django_user_model.objects.create_user("mallory"))

    response = revoke_from_the_authorized_tokens_page(client, access_token_row(code_tokens["access_token"]))

    assert response.status_code == 404
    assert access_token_row(code_tokens["access_token"]) is not None
    assert RefreshToken.objects.get(token=code_tokens["refresh_token"]).revoked is None


# --- 3.1.0 #1517: no logout prompt without a session at the provider ---------------------------------------

ISSUER = "https://id.example.com/o"
LOGOUT_URI = "https://rp.example.com/logged-out"


@functools.cache
def rsa_pem():
    return jwk.JWK.generate(kty="RSA", size=2048).export_to_pem(private_key=True, password=None).decode()


@pytest.fixture
def oidc_provider(settings):
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_ENABLED": True,
        "OIDC_ISS_ENDPOINT": ISSUER,
        "OIDC_RSA_PRIVATE_KEY": rsa_pem(),
        "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
        "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
        "SCOPES": {"openid": "OpenID Connect", "read": "Reading"},
    }

    def configure(**overrides):
        settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, **overrides}

    return configure


@pytest.fixture
def relying_party(oidc_provider, resource_owner):
    return Application.objects.create(
        name="relying party",
        user=resource_owner,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
        post_logout_redirect_uris=LOGOUT_URI,
        algorithm=Application.RS256_ALGORITHM,
    )


@pytest.fixture
def session_tokens(relying_party, resource_owner):
    """An ID token hint of ``resource_owner`` at the relying party, and an access token beside it."""
    expires = timezone.now() + timedelta(hours=1)
    id_token = IDToken.objects.create(
        application=relying_party, user=resource_owner, scope="openid", expires=expires
    )
    AccessToken.objects.create(
        user=resource_owner,
        application=relying_party,
        token="rp-access-token",
        id_token=id_token,
        expires=expires,
        scope="openid",
    )
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": relying_party.client_id,
        "sub": str(resource_owner.pk),
        "jti": str(id_token.jti),
        "iat": now,
        "exp": now + 3600,
    }
    hint = jwt.JWT(header={"alg": "RS256"}, claims=claims)
    hint.make_signed_token(relying_party.jwk_key)
    return hint.serialize()


def logout(client, **params):
    return client.get(reverse("oauth2_provider:rp-initiated-logout"), params)


def test_logout_without_session_does_not_prompt(client, session_tokens, relying_party, resource_owner):
    response = logout(client, id_token_hint=session_tokens, post_logout_redirect_uri=LOGOUT_URI, state="st")

    assert response.status_code == 302
    assert response["Location"] == LOGOUT_URI + "?state=st"
    assert not AccessToken.objects.filter(user=resource_owner).exists()


def test_logout_without_session_does_not_prompt_even_when_always_prompting(
    client, session_tokens, oidc_provider
):
    oidc_provider(OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT=True)

    assert logout(client, id_token_hint=session_tokens).status_code == 302


def test_logout_without_session_or_parameters_goes_to_the_site_root(client, oidc_provider, db):
    response = logout(client)

    assert response.status_code == 302
    assert response["Location"] == "http://testserver/"


def test_logout_without_session_still_refuses_an_unregistered_redirect(client, session_tokens, relying_party):
    response = logout(
        client,
        id_token_hint=session_tokens,
        client_id=relying_party.client_id,
        post_logout_redirect_uri=ATTACKER_URI,
    )

    assert response.status_code == 400
    assert not response.has_header("Location")


def test_logout_without_session_still_refuses_a_forged_hint(client, session_tokens, relying_party):
    header, payload, signature = session_tokens.split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"

    response = logout(client, id_token_hint=forged, post_logout_redirect_uri=LOGOUT_URI)

    assert response.status_code == 400
    assert AccessToken.objects.filter(token="rp-access-token").exists()


def test_a_session_without_hint_is_still_asked(signed_in_client, relying_party):
    response = logout(signed_in_client, client_id=relying_party.client_id)

    assert response.status_code == 200
    assert get_user(signed_in_client).is_authenticated


# --- 3.1.0 #1512: secrets are kept out of Django's error reports -----------------------------------------

MASK = SafeExceptionReporterFilter.cleansed_substitute


def reported_post_parameters(response):
    """The POST parameters of the request behind ``response``, as Django's error report would show them."""
    return SafeExceptionReporterFilter().get_post_parameters(response.wsgi_request).dict()


@pytest.mark.parametrize(
    ("url_name", "data", "secrets"),
    [
        pytest.param(
            "token",
            {
                "grant_type": "authorization_code",
                "client_id": "c",
                "client_secret": "s3cr3t",
                "code": "c0de",
                "code_verifier": "v3rifier",
                "redirect_uri": REDIRECT_URI,
            },
            {"client_secret", "code", "code_verifier"},
            id="token-code",
        ),
        pytest.param(
            "token",
            {"grant_type": "refresh_token", "refresh_token": "r3fresh"},
            {"refresh_token"},
            id="token-refresh",
        ),
        pytest.param(
            "token",
            {"grant_type": "password", "username": "alice", "password": "p4ss"},
            {"password"},
            id="token-password",
        ),
        pytest.param(
            "revoke-token",
            {"token": "t0ken", "client_id": "c", "client_secret": "s3cr3t"},
            {"token", "client_secret"},
            id="revocation",
        ),
        pytest.param(
            "introspect",
            {"token": "t0ken", "client_id": "c", "client_secret": "s3cr3t"},
            {"token", "client_secret"},
            id="introspection",
        ),
        pytest.param("user-info", {"access_token": "t0ken"}, {"access_token"}, id="userinfo"),
    ],
)
def test_endpoints_mask_secrets_in_error_reports(client, oidc_provider, url_name, data, secrets):
    response = client.post(reverse(f"oauth2_provider:{url_name}"), data)

    reported = reported_post_parameters(response)
    assert reported == {name: MASK if name in secrets else value for name, value in data.items()}


@pytest.mark.parametrize("url_name", ["register", "update"])
def test_application_forms_mask_the_client_secret_in_error_reports(
    signed_in_client, code_app, resource_owner, url_name
):
    code_app.user = resource_owner
    code_app.save()
    args = [code_app.pk] if url_name == "update" else []
    data = {"name": "", "client_secret": "n3w-s3cr3t"}

    response = signed_in_client.post(reverse(f"oauth2_provider:{url_name}", args=args), data)

    assert response.status_code == 200  # the incomplete form is shown again
    assert reported_post_parameters(response) == {"name": "", "client_secret": MASK}


def test_admin_application_form_masks_the_client_secret_in_error_reports(staff_client, db):
    data = {"name": "", "client_secret": "n3w-s3cr3t"}

    response = staff_client.post(reverse("admin:oauth2_provider_application_add"), data)

    assert response.status_code == 200
    assert reported_post_parameters(response) == {"name": "", "client_secret": MASK}


def test_a_traceback_through_secret_hashing_hides_the_secret(monkeypatch, db):
    def broken_hasher(secret, hasher="default"):
        raise RuntimeError("hasher down")

    monkeypatch.setattr(provider_models, "make_password", broken_hasher)
    application = Application(name="x", client_secret="cleartext-client-secret", client_type="public")
    with pytest.raises(RuntimeError) as raised:
        application.save()

    reporter = ExceptionReporter(None, raised.type, raised.value, raised.tb)
    pre_save = next(frame for frame in reporter.get_traceback_frames() if frame["function"] == "pre_save")
    assert dict(pre_save["vars"])["secret"] == MASK


# --- 3.1.0 #1562: introspection without a token is a 400, not a server error -------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_introspection_without_token_is_an_invalid_request(client, service_app, method):
    call = getattr(client, method)
    response = call(
        reverse("oauth2_provider:introspect"), {}, **basic_auth(service_app.client_id, CLIENT_SECRET)
    )

    assert_oauth_error(response, 400, "invalid_request")
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("token", ["", " ", "\x00", "é" * 300])
def test_introspection_of_a_junk_token_is_inactive(client, service_app, token):
    response = client.post(
        reverse("oauth2_provider:introspect"),
        {"token": token},
        **basic_auth(service_app.client_id, CLIENT_SECRET),
    )

    assert response.status_code == 200
    assert response.json() == {"active": False}


def test_introspection_still_reports_a_live_token(client, password_app, service_app, resource_owner):
    token = password_grant(client, password_app).json()["access_token"]

    response = client.post(
        reverse("oauth2_provider:introspect"),
        {"token": token},
        **basic_auth(service_app.client_id, CLIENT_SECRET),
    )

    assert response.json()["active"] is True


# --- 3.3.0 #1628: the client secret help text is right whether or not the secret is hashed ---------------


def test_registration_form_explains_when_the_secret_is_hashed(signed_in_client):
    response = signed_in_client.get(reverse("oauth2_provider:register"))

    help_text = response.context["form"].fields["client_secret"].help_text
    assert help_text == CLIENT_SECRET_HELP_TEXT
    assert "unless" in str(help_text)
    assert str(help_text) in response.content.decode()


def test_admin_application_form_explains_when_the_secret_is_hashed(staff_client, db):
    response = staff_client.get(reverse("admin:oauth2_provider_application_add"))

    assert response.context["adminform"].form.fields["client_secret"].help_text == CLIENT_SECRET_HELP_TEXT


def test_the_model_field_keeps_dot_3_0_1_help_text_so_no_migration_is_needed():
    field = Application._meta.get_field("client_secret")

    assert str(field.help_text) == "Hashed on Save. Copy it now if this is a new secret."


# --- 3.3.0 #1689: a valid Cache-Control header on the JWKS endpoint --------------------------------------


def test_jwks_cache_control_is_a_valid_header_value(client, oidc_provider):
    oidc_provider(OIDC_JWKS_MAX_AGE_SECONDS=600)

    response = client.get(reverse("oauth2_provider:jwks-info"))

    assert response.status_code == 200
    value = response["Cache-Control"]
    assert not value.lower().startswith("cache-control")
    directives = dict(
        (name.strip(), argument) for name, _, argument in (part.partition("=") for part in value.split(","))
    )
    assert directives == {
        "public": "",
        "max-age": "600",
        "stale-while-revalidate": "600",
        "stale-if-error": "600",
    }
    assert json.loads(response.content)["keys"]
