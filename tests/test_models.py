"""The models: secrets, checksums, validation, redirect and origin matching, tokens, clear_expired, admin."""

import hashlib
from datetime import timedelta

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth.hashers import check_password, make_password
from django.core import checks
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from jwcrypto import jwk
from oauthlib.oauth2.rfc6749.errors import MissingRedirectURIError

from oauth2_provider import admin as provider_admin
from oauth2_provider.models import (
    AccessToken,
    Application,
    Grant,
    IDToken,
    RefreshToken,
    clear_expired,
    get_access_token_admin_class,
    get_access_token_model,
    get_application_admin_class,
    get_application_model,
    get_grant_admin_class,
    get_grant_model,
    get_id_token_admin_class,
    get_id_token_model,
    get_refresh_token_admin_class,
    get_refresh_token_model,
)


HOUR = timedelta(hours=1)


def in_(delta):
    """The moment ``delta`` from now (negative: in the past)."""
    return timezone.now() + delta


class CustomApplicationAdmin(provider_admin.ApplicationAdmin):
    list_display = ("name",)


@pytest.fixture(scope="session")
def rsa_private_key_pem():
    return jwk.JWK.generate(kty="RSA", size=2048).export_to_pem(private_key=True, password=None).decode()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.com", "password")


@pytest.fixture
def make_application(user):
    def make(**fields):
        values = {
            "name": "Test client",
            "user": user,
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": "https://client.example/cb",
            **fields,
        }
        return Application.objects.create(**values)

    return make


@pytest.fixture
def application(make_application):
    return make_application()


@pytest.fixture
def make_access_token(user, application):
    def make(token, expires, **fields):
        return AccessToken.objects.create(
            token=token, expires=expires, user=user, application=application, scope="read", **fields
        )

    return make


def unsaved_application(**fields):
    """An application built in memory, for the checks that need no database."""
    values = {
        "client_type": Application.CLIENT_CONFIDENTIAL,
        "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
        "redirect_uris": "https://client.example/cb",
        **fields,
    }
    return Application(**values)


def stored_secret(application):
    return Application.objects.values_list("client_secret", flat=True).get(pk=application.pk)


# Client secret


@pytest.mark.django_db
def test_client_secret_is_stored_hashed(make_application):
    application = make_application(client_secret="cleartext-secret")
    secret = stored_secret(application)
    assert secret != "cleartext-secret"
    assert check_password("cleartext-secret", secret)


@pytest.mark.django_db
def test_generated_client_secret_is_stored_hashed(user):
    application = Application(
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    cleartext = application.client_secret
    application.save()
    assert check_password(cleartext, stored_secret(application))


@pytest.mark.django_db
def test_saving_again_does_not_hash_the_hash(make_application):
    application = make_application(client_secret="cleartext-secret")
    first_hash = stored_secret(application)
    application.name = "Renamed"
    application.save()
    Application.objects.get(pk=application.pk).save()
    assert stored_secret(application) == first_hash
    assert check_password("cleartext-secret", stored_secret(application))


@pytest.mark.django_db
def test_secret_given_already_hashed_is_stored_as_is(make_application):
    hashed = make_password("cleartext-secret")
    application = make_application(client_secret=hashed)
    assert stored_secret(application) == hashed


@pytest.mark.django_db
def test_secret_is_kept_in_cleartext_when_hashing_is_off(make_application):
    application = make_application(client_secret="cleartext-secret", hash_client_secret=False)
    application.save()
    assert stored_secret(application) == "cleartext-secret"


# Access token checksum


@pytest.mark.django_db
def test_checksum_is_the_sha256_of_the_token(make_access_token):
    make_access_token("abc", in_(HOUR))
    # The SHA-256 test vector of FIPS 180-2 for "abc".
    expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert AccessToken.objects.get(token="abc").token_checksum == expected


@pytest.mark.django_db
def test_checksum_of_a_non_ascii_token_hashes_its_utf8_bytes(make_access_token):
    token = "jeton-été-✓-𝔗"
    make_access_token(token, in_(HOUR))
    expected = hashlib.sha256(token.encode("utf-8")).hexdigest()
    assert AccessToken.objects.get(token_checksum=expected).token == token


@pytest.mark.django_db
def test_checksum_follows_a_changed_token(make_access_token):
    access_token = make_access_token("first", in_(HOUR))
    access_token.token = "second"
    access_token.save()
    stored = AccessToken.objects.values_list("token_checksum", flat=True).get(pk=access_token.pk)
    assert stored == hashlib.sha256(b"second").hexdigest()


@pytest.mark.django_db
def test_long_tokens_get_a_fixed_size_checksum(make_access_token):
    # A JWT access token easily passes 255 characters; the unique index is on the checksum.
    token = "eyJ" + "x" * 5000
    access_token = make_access_token(token, in_(HOUR))
    access_token.refresh_from_db()
    assert access_token.token == token
    assert len(access_token.token_checksum) == 64


# Application.clean()


@pytest.mark.parametrize(
    "grant_type",
    [Application.GRANT_AUTHORIZATION_CODE, Application.GRANT_IMPLICIT, Application.GRANT_OPENID_HYBRID],
)
def test_redirecting_grant_types_need_a_redirect_uri(grant_type):
    application = unsaved_application(authorization_grant_type=grant_type, redirect_uris="  ")
    with pytest.raises(ValidationError) as excinfo:
        application.clean()
    assert excinfo.value.messages == [f"redirect_uris cannot be empty with grant_type {grant_type}"]


@pytest.mark.parametrize("grant_type", [Application.GRANT_PASSWORD, Application.GRANT_CLIENT_CREDENTIALS])
def test_non_redirecting_grant_types_need_no_redirect_uri(grant_type):
    unsaved_application(authorization_grant_type=grant_type, redirect_uris="").clean()


def test_every_redirect_uri_must_use_an_allowed_scheme():
    application = unsaved_application(redirect_uris="https://client.example/cb ftp://client.example/cb")
    with pytest.raises(ValidationError) as excinfo:
        application.clean()
    assert excinfo.value.messages == [
        "redirect uri URI Validation error. invalid_scheme: ftp://client.example/cb"
    ]


def test_redirect_uris_may_have_path_and_query_but_no_fragment():
    unsaved_application(redirect_uris="http://client.example/a/b?x=1 https://client.example").clean()
    with pytest.raises(ValidationError, match="fragment not allowed"):
        unsaved_application(redirect_uris="https://client.example/cb#part").clean()


def test_redirect_uri_schemes_come_from_the_settings(settings):
    settings.OAUTH2_PROVIDER = {"ALLOWED_REDIRECT_URI_SCHEMES": ["HTTPS", "com.example.app"]}
    unsaved_application(redirect_uris="https://client.example/cb com.example.app://callback").clean()
    with pytest.raises(ValidationError, match="invalid_scheme"):
        unsaved_application(redirect_uris="http://client.example/cb").clean()


def test_allowed_origins_are_https_scheme_and_host_only():
    unsaved_application(allowed_origins="https://a.example https://b.example:8443").clean()


@pytest.mark.parametrize(
    ("origin", "cause"),
    [
        ("http://a.example", "allowed origin URI Validation error. invalid_scheme"),
        ("https://a.example/", "allowed origin URI validation error. path not allowed"),
        ("https://a.example?x=1", "allowed origin URI validation error. query string not allowed"),
    ],
)
def test_allowed_origin_outside_the_rules_is_refused(origin, cause):
    with pytest.raises(ValidationError) as excinfo:
        unsaved_application(allowed_origins=f"https://ok.example {origin}").clean()
    assert excinfo.value.messages == [f"{cause}: {origin}"]


def test_rs256_needs_the_private_key_setting():
    with pytest.raises(ValidationError) as excinfo:
        unsaved_application(algorithm=Application.RS256_ALGORITHM).clean()
    assert excinfo.value.messages == ["You must set OIDC_RSA_PRIVATE_KEY to use RSA algorithm"]


def test_rs256_with_a_private_key_is_valid(settings, rsa_private_key_pem):
    settings.OAUTH2_PROVIDER = {"OIDC_RSA_PRIVATE_KEY": rsa_private_key_pem}
    unsaved_application(algorithm=Application.RS256_ALGORITHM).clean()


@pytest.mark.parametrize(
    ("client_type", "grant_type"),
    [
        (Application.CLIENT_PUBLIC, Application.GRANT_AUTHORIZATION_CODE),
        (Application.CLIENT_CONFIDENTIAL, Application.GRANT_IMPLICIT),
        (Application.CLIENT_CONFIDENTIAL, Application.GRANT_OPENID_HYBRID),
    ],
)
def test_hs256_is_refused_where_the_secret_would_reach_a_browser(client_type, grant_type):
    application = unsaved_application(
        algorithm=Application.HS256_ALGORITHM, client_type=client_type, authorization_grant_type=grant_type
    )
    with pytest.raises(ValidationError) as excinfo:
        application.clean()
    assert excinfo.value.messages == ["You cannot use HS256 with public grants or clients"]


def test_hs256_with_a_confidential_code_client_is_valid():
    unsaved_application(algorithm=Application.HS256_ALGORITHM).clean()


# Upstream #1343 (PR #1811, 3.4.1): every problem, each on the field it concerns.


def test_clean_reports_every_problem_on_its_field():
    application = unsaved_application(
        redirect_uris="ftp://client.example/cb https://client.example/cb#",
        allowed_origins="http://a.example",
        algorithm=Application.RS256_ALGORITHM,
    )
    with pytest.raises(ValidationError) as excinfo:
        application.clean()
    assert excinfo.value.message_dict == {
        "redirect_uris": [
            "redirect uri URI Validation error. invalid_scheme: ftp://client.example/cb",
            "redirect uri URI validation error. fragment not allowed: https://client.example/cb#",
        ],
        "allowed_origins": ["allowed origin URI Validation error. invalid_scheme: http://a.example"],
        "algorithm": ["You must set OIDC_RSA_PRIVATE_KEY to use RSA algorithm"],
    }


class _NameOnlyForm(forms.ModelForm):
    """A project's own narrower form: none of the fields that clean() reports on."""

    class Meta:
        model = Application
        fields = ("name",)


def test_a_form_without_the_field_shows_its_problem_as_a_non_field_error():
    application = unsaved_application(allowed_origins="http://a.example")
    form = _NameOnlyForm({"name": "renamed"}, instance=application)
    assert not form.is_valid()
    assert form.errors == {
        "__all__": ["allowed origin URI Validation error. invalid_scheme: http://a.example"]
    }


# Redirect URIs and origins


def test_default_redirect_uri_is_the_only_registered_one():
    assert unsaved_application(redirect_uris=" https://client.example/cb ").default_redirect_uri == (
        "https://client.example/cb"
    )


def test_default_redirect_uri_is_ambiguous_with_several_registered():
    application = unsaved_application(redirect_uris="https://client.example/a https://client.example/b")
    with pytest.raises(MissingRedirectURIError):
        _ = application.default_redirect_uri


def test_default_redirect_uri_of_blank_redirect_uris_is_a_missing_redirect_uri():
    with pytest.raises(MissingRedirectURIError):
        _ = unsaved_application(redirect_uris="   ").default_redirect_uri


def test_default_redirect_uri_needs_a_registered_uri():
    with pytest.raises(AssertionError, match="you must define redirect_uris"):
        _ = unsaved_application(redirect_uris="").default_redirect_uri


REGISTERED_REDIRECT_URIS = " ".join(
    [
        "https://good.example/cb?tenant=1",
        "http://127.0.0.1/native",
        "http://[::1]/native",
        "http://localhost/native",
        "http://127.0.0.1:5000/fixed",
        "myapp://callback",
    ]
)


@pytest.mark.parametrize(
    "uri",
    [
        "https://good.example/cb?tenant=1",
        "HTTPS://good.example/cb?tenant=1",
        "http://127.0.0.1/native",
        "http://127.0.0.1:49152/native",
        "http://[::1]:49152/native",
        "http://localhost/native",
        "http://127.0.0.1:5000/fixed",
        "myapp://callback",
    ],
)
def test_redirect_uri_matching_a_registered_one_is_allowed(uri):
    assert unsaved_application(redirect_uris=REGISTERED_REDIRECT_URIS).redirect_uri_allowed(uri)


@pytest.mark.parametrize(
    "uri",
    [
        pytest.param("https://evil.example/cb?tenant=1", id="other-host"),
        pytest.param("https://good.example.evil.example/cb?tenant=1", id="host-suffix"),
        pytest.param("https://good.example:8443/cb?tenant=1", id="other-port"),
        pytest.param("https://good.example/cb/more?tenant=1", id="longer-path"),
        pytest.param("https://good.example/c?tenant=1", id="shorter-path"),
        pytest.param("https://good.example/CB?tenant=1", id="path-case"),
        pytest.param("https://good.example@evil.example/cb?tenant=1", id="userinfo-trick"),
        pytest.param("https://good.example:@evil.example/cb?tenant=1", id="userinfo-with-colon"),
        pytest.param("http://good.example/cb?tenant=1", id="scheme-downgrade"),
        pytest.param("https://good.example/cb", id="missing-registered-query"),
        pytest.param("https://good.example/cb?tenant=2", id="other-query-value"),
        # Backported fix of upstream #1801: the query must be the registered one, nothing added.
        pytest.param("https://good.example/cb?state=xyz&tenant=1", id="added-query-parameter"),
        pytest.param("https://evil.example/?next=https://good.example/cb?tenant=1", id="nested-uri"),
        pytest.param("http://localhost:49152/native", id="any-port-not-for-localhost-name"),
        pytest.param("https://127.0.0.1:49152/native", id="any-port-only-for-http"),
        pytest.param("http://127.0.0.2:49152/native", id="other-loopback-address"),
        pytest.param("http://127.0.0.1:49152/other", id="loopback-other-path"),
        pytest.param("http://127.0.0.1:5001/fixed", id="registered-port-is-kept"),
        pytest.param("http://127.0.0.1/fixed", id="registered-port-missing"),
        pytest.param("myapp://evil", id="custom-scheme-other-host"),
        pytest.param("", id="empty"),
    ],
)
def test_redirect_uri_not_matching_is_refused(uri):
    assert not unsaved_application(redirect_uris=REGISTERED_REDIRECT_URIS).redirect_uri_allowed(uri)


def test_post_logout_redirect_uris_are_matched_the_same_way():
    application = unsaved_application(
        post_logout_redirect_uris="https://good.example/bye http://127.0.0.1/bye"
    )
    assert application.post_logout_redirect_uri_allowed("https://good.example/bye")
    assert application.post_logout_redirect_uri_allowed("http://127.0.0.1:8000/bye")
    assert not application.post_logout_redirect_uri_allowed("https://good.example@evil.example/bye")
    assert not application.post_logout_redirect_uri_allowed("https://client.example/cb")


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://a.example", True),
        ("https://b.example:8443", True),
        ("https://b.example", False),
        ("https://a.example:443", False),
        ("https://c.example", False),
        ("https://a.example.evil.example", False),
        ("http://a.example", False),
    ],
)
def test_origin_is_allowed_only_when_registered(origin, allowed):
    application = unsaved_application(allowed_origins="https://a.example https://b.example:8443")
    assert bool(application.origin_allowed(origin)) is allowed


def test_no_origin_is_allowed_without_registered_origins():
    assert not unsaved_application(allowed_origins="").origin_allowed("https://a.example")


def test_registered_origin_with_a_scheme_outside_allowed_schemes_is_refused(settings):
    application = unsaved_application(allowed_origins="http://a.example")
    assert not application.origin_allowed("http://a.example")
    settings.OAUTH2_PROVIDER = {"ALLOWED_SCHEMES": ["https", "http"]}
    assert application.origin_allowed("http://a.example")


def test_application_is_named_by_its_name_or_client_id():
    assert str(unsaved_application(name="Billing")) == "Billing"
    assert str(unsaved_application(name="", client_id="abc123")) == "abc123"


# Tokens


@pytest.fixture(params=[AccessToken, IDToken], ids=["access-token", "id-token"])
def scoped_token_model(request):
    return request.param


@pytest.mark.parametrize(
    ("expires", "expired"), [(in_(HOUR), False), (in_(-HOUR), True), (None, True)], ids=str
)
def test_token_expiry(scoped_token_model, expires, expired):
    assert scoped_token_model(expires=expires).is_expired() is expired


@pytest.mark.parametrize(
    ("expires", "expired"), [(in_(HOUR), False), (in_(-HOUR), True), (None, True)], ids=str
)
def test_grant_expiry(expires, expired):
    assert Grant(expires=expires).is_expired() is expired


@pytest.mark.parametrize(
    ("asked", "allowed"),
    [(None, True), ([], True), (["read"], True), (["read", "write"], True), (["read", "admin"], False)],
)
def test_token_allows_only_the_scopes_it_holds(scoped_token_model, asked, allowed):
    assert scoped_token_model(scope="read write").allow_scopes(asked) is allowed


@pytest.mark.parametrize(
    ("expires", "asked", "valid"),
    [
        (in_(HOUR), None, True),
        (in_(HOUR), ["read"], True),
        (in_(HOUR), ["admin"], False),
        (in_(-HOUR), None, False),
        (in_(-HOUR), ["read"], False),
    ],
)
def test_token_is_valid_when_unexpired_and_holding_the_scopes(scoped_token_model, expires, asked, valid):
    assert scoped_token_model(expires=expires, scope="read").is_valid(asked) is valid


def test_token_scopes_describe_the_known_ones(scoped_token_model):
    token = scoped_token_model(scope="write unknown read")
    assert token.scopes == {"read": "Reading scope", "write": "Writing scope"}


def test_token_scopes_come_from_the_scopes_setting(scoped_token_model, settings):
    settings.OAUTH2_PROVIDER = {"SCOPES": {"profile": "Your profile", "read": "Read"}}
    assert scoped_token_model(scope="profile").scopes == {"profile": "Your profile"}


@pytest.mark.django_db
def test_id_token_str_names_its_jti_and_user(user, application):
    id_token = IDToken.objects.create(user=user, application=application, expires=in_(HOUR))
    anonymous = IDToken.objects.create(application=application, expires=in_(HOUR))
    assert str(id_token) == f"JTI: {id_token.jti} User: {user.pk}"
    assert str(anonymous) == f"JTI: {anonymous.jti} User: None"


@pytest.fixture
def refresh_token(user, application, make_access_token):
    access_token = make_access_token("access", in_(HOUR))
    return RefreshToken.objects.create(
        token="refresh", user=user, application=application, access_token=access_token
    )


@pytest.mark.django_db
def test_revoking_a_refresh_token_deletes_its_access_token(refresh_token):
    access_token_pk = refresh_token.access_token.pk
    refresh_token.revoke()
    refresh_token.refresh_from_db()
    assert refresh_token.revoked is not None
    assert refresh_token.access_token is None
    assert not AccessToken.objects.filter(pk=access_token_pk).exists()


@pytest.mark.django_db
def test_refresh_token_is_revoked_only_once(refresh_token):
    stale_copy = RefreshToken.objects.get(pk=refresh_token.pk)
    refresh_token.revoke()
    first_revocation = RefreshToken.objects.get(pk=refresh_token.pk).revoked
    refresh_token.revoke()
    stale_copy.revoke()
    assert RefreshToken.objects.get(pk=refresh_token.pk).revoked == first_revocation


@pytest.mark.django_db
def test_access_token_revoke_deletes_it(make_access_token):
    access_token = make_access_token("access", in_(HOUR))
    access_token.revoke()
    assert not AccessToken.objects.filter(token="access").exists()


# Swappable models and admin classes


@pytest.mark.parametrize(
    ("getter", "model"),
    [
        (get_application_model, Application),
        (get_access_token_model, AccessToken),
        (get_grant_model, Grant),
        (get_id_token_model, IDToken),
        (get_refresh_token_model, RefreshToken),
    ],
)
def test_model_getters_return_the_default_models(getter, model):
    assert getter() is model


ADMIN_CLASSES = [
    (get_application_admin_class, "APPLICATION_ADMIN_CLASS", Application, provider_admin.ApplicationAdmin),
    (get_access_token_admin_class, "ACCESS_TOKEN_ADMIN_CLASS", AccessToken, provider_admin.AccessTokenAdmin),
    (get_grant_admin_class, "GRANT_ADMIN_CLASS", Grant, provider_admin.GrantAdmin),
    (get_id_token_admin_class, "ID_TOKEN_ADMIN_CLASS", IDToken, provider_admin.IDTokenAdmin),
    (
        get_refresh_token_admin_class,
        "REFRESH_TOKEN_ADMIN_CLASS",
        RefreshToken,
        provider_admin.RefreshTokenAdmin,
    ),
]


@pytest.mark.parametrize(("getter", "setting", "model", "admin_class"), ADMIN_CLASSES)
def test_admin_class_getters_return_the_default_classes(getter, setting, model, admin_class):
    assert getter() is admin_class


@pytest.mark.parametrize(("getter", "setting", "model", "admin_class"), ADMIN_CLASSES)
def test_admin_class_getters_follow_the_settings(getter, setting, model, admin_class):
    with override_settings(OAUTH2_PROVIDER={setting: "tests.test_models.CustomApplicationAdmin"}):
        assert getter() is CustomApplicationAdmin


@pytest.mark.parametrize(("getter", "setting", "model", "admin_class"), ADMIN_CLASSES)
def test_each_model_is_registered_with_its_admin_class(getter, setting, model, admin_class):
    assert type(admin.site._registry[model]) is admin_class


def test_admin_classes_pass_the_admin_checks():
    assert checks.run_checks(tags=[checks.Tags.admin]) == []


@pytest.mark.django_db
@pytest.mark.parametrize("model_name", ["application", "accesstoken", "grant", "idtoken", "refreshtoken"])
def test_admin_changelist_lists_and_searches(admin_client, refresh_token, model_name):
    Grant.objects.create(
        user=refresh_token.user,
        application=refresh_token.application,
        code="code",
        expires=in_(HOUR),
        redirect_uri="https://client.example/cb",
    )
    IDToken.objects.create(user=refresh_token.user, application=refresh_token.application, expires=in_(HOUR))
    url = reverse(f"admin:oauth2_provider_{model_name}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "alice@example.com"}).status_code == 200


# clear_expired


@pytest.fixture
def expiry_scenario(user, application, make_access_token):
    """One row per case clear_expired() tells apart, by name. The refresh lifetime tested is one hour."""

    def refresh_token(name, access_token=None, revoked=None):
        return RefreshToken.objects.create(
            token=name, user=user, application=application, access_token=access_token, revoked=revoked
        )

    def grant(name, expires):
        return Grant.objects.create(
            code=name, user=user, application=application, expires=expires, redirect_uri="https://c.example/"
        )

    def id_token(expires):
        return IDToken.objects.create(user=user, application=application, expires=expires)

    rows = {"id-expired-kept-by-access": id_token(in_(-HOUR))}
    rows["at-live"] = make_access_token("at-live", in_(HOUR), id_token=rows["id-expired-kept-by-access"])
    rows["at-expired"] = make_access_token("at-expired", in_(-timedelta(minutes=1)))
    rows["at-just-expired-with-rt"] = make_access_token("at-just-expired-with-rt", in_(-timedelta(minutes=1)))
    rows["rt-of-just-expired"] = refresh_token("rt-of-just-expired", rows["at-just-expired-with-rt"])
    rows["at-long-expired-with-rt"] = make_access_token("at-long-expired-with-rt", in_(-2 * HOUR))
    rows["rt-of-long-expired"] = refresh_token("rt-of-long-expired", rows["at-long-expired-with-rt"])
    rows["at-live-with-rt"] = make_access_token("at-live-with-rt", in_(HOUR))
    rows["rt-live"] = refresh_token("rt-live", rows["at-live-with-rt"])
    rows["rt-revoked-long-ago"] = refresh_token("rt-revoked-long-ago", revoked=in_(-2 * HOUR))
    rows["rt-revoked-recently"] = refresh_token("rt-revoked-recently", revoked=in_(-timedelta(minutes=10)))
    rows["id-expired-orphan"] = id_token(in_(-HOUR))
    rows["id-live"] = id_token(in_(HOUR))
    rows["grant-expired"] = grant("grant-expired", in_(-timedelta(seconds=1)))
    rows["grant-live"] = grant("grant-live", in_(timedelta(minutes=1)))
    return rows


def surviving(rows):
    return {name for name, row in rows.items() if type(row).objects.filter(pk=row.pk).exists()}


# Revoked refresh tokens go without a lifetime too, as in upstream 3.4.1 (no grace period here).
ALWAYS_DELETED = {
    "at-expired",
    "id-expired-orphan",
    "grant-expired",
    "rt-revoked-long-ago",
    "rt-revoked-recently",
}
# With a refresh token lifetime, these go too (the access token once its refresh token is gone).
DELETED_AFTER_REFRESH_LIFETIME = {"rt-of-long-expired", "at-long-expired-with-rt"}


@pytest.mark.django_db
def test_without_refresh_lifetime_live_refresh_tokens_are_all_kept(expiry_scenario):
    clear_expired()
    assert surviving(expiry_scenario) == set(expiry_scenario) - ALWAYS_DELETED


@pytest.mark.django_db
@pytest.mark.parametrize("lifetime", [3600, HOUR], ids=["seconds", "timedelta"])
def test_refresh_lifetime_removes_old_refresh_tokens(settings, expiry_scenario, lifetime):
    settings.OAUTH2_PROVIDER = {"REFRESH_TOKEN_EXPIRE_SECONDS": lifetime}
    clear_expired()
    expected = set(expiry_scenario) - ALWAYS_DELETED - DELETED_AFTER_REFRESH_LIFETIME
    assert surviving(expiry_scenario) == expected


@pytest.mark.django_db
def test_refresh_lifetime_of_another_type_is_a_configuration_error(settings, expiry_scenario):
    settings.OAUTH2_PROVIDER = {"REFRESH_TOKEN_EXPIRE_SECONDS": "one hour"}
    with pytest.raises(ImproperlyConfigured, match="^REFRESH_TOKEN_EXPIRE_SECONDS must be either"):
        clear_expired()
    assert surviving(expiry_scenario) == set(expiry_scenario)


@pytest.mark.django_db
def test_expired_rows_are_deleted_in_batches_of_the_configured_size(settings, user, application):
    settings.OAUTH2_PROVIDER = {"CLEAR_EXPIRED_TOKENS_BATCH_SIZE": 2}
    for number in range(5):
        Grant.objects.create(
            code=f"expired-{number}",
            user=user,
            application=application,
            expires=in_(-HOUR),
            redirect_uri="https://c.example/",
        )
    Grant.objects.create(
        code="live", user=user, application=application, expires=in_(HOUR), redirect_uri="https://c.example/"
    )
    deleted = []

    def count_grant_deletes(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.lower().startswith("delete") and "oauth2_provider_grant" in sql:
            deleted.append(context["cursor"].rowcount)
        return result

    with connection.execute_wrapper(count_grant_deletes):
        clear_expired()
    # One DELETE per window; the open-ended last window holds only the live grant.
    assert [rows for rows in deleted if rows] == [2, 2, 1]
    assert list(Grant.objects.values_list("code", flat=True)) == ["live"]
