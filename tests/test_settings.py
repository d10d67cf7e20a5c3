"""``oauth2_settings``: defaults, import strings, validation, computed scopes, reloading, OIDC helpers."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.urls import include, path
from django.utils.module_loading import import_string
from oauthlib.common import Request as OAuthlibRequest

from oauth2_provider import generators
from oauth2_provider.settings import (
    DEFAULTS,
    IMPORT_STRINGS,
    MANDATORY,
    OAuth2ProviderSettings,
    oauth2_settings,
)


# django-oauth-toolkit 3.0.1's defaults, key by key, plus the key this distribution adds and the one it
# backports.
DOT_3_0_1_DEFAULTS = {
    "CLIENT_ID_GENERATOR_CLASS": "oauth2_provider.generators.ClientIdGenerator",
    "CLIENT_SECRET_GENERATOR_CLASS": "oauth2_provider.generators.ClientSecretGenerator",
    "CLIENT_SECRET_GENERATOR_LENGTH": 128,
    # Not in DOT 3.0.1: backported from 3.1.0 (upstream PR #1498), same default.
    "CLIENT_SECRET_HASHER": "default",
    "ACCESS_TOKEN_GENERATOR": None,
    "REFRESH_TOKEN_GENERATOR": None,
    "EXTRA_SERVER_KWARGS": {},
    "OAUTH2_SERVER_CLASS": "oauthlib.oauth2.Server",
    "OIDC_SERVER_CLASS": "oauthlib.openid.Server",
    "OAUTH2_VALIDATOR_CLASS": "oauth2_provider.oauth2_validators.OAuth2Validator",
    "OAUTH2_BACKEND_CLASS": "oauth2_provider.oauth2_backends.OAuthLibCore",
    "SCOPES": {"read": "Reading scope", "write": "Writing scope"},
    "DEFAULT_SCOPES": ["__all__"],
    "SCOPES_BACKEND_CLASS": "oauth2_provider.scopes.SettingsScopes",
    "READ_SCOPE": "read",
    "WRITE_SCOPE": "write",
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 36000,
    "ID_TOKEN_EXPIRE_SECONDS": 36000,
    "REFRESH_TOKEN_EXPIRE_SECONDS": None,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "REFRESH_TOKEN_REUSE_PROTECTION": False,
    "ROTATE_REFRESH_TOKEN": True,
    "ERROR_RESPONSE_WITH_SCOPES": False,
    "APPLICATION_MODEL": "oauth2_provider.Application",
    "ACCESS_TOKEN_MODEL": "oauth2_provider.AccessToken",
    "ID_TOKEN_MODEL": "oauth2_provider.IDToken",
    "GRANT_MODEL": "oauth2_provider.Grant",
    "REFRESH_TOKEN_MODEL": "oauth2_provider.RefreshToken",
    "APPLICATION_ADMIN_CLASS": "oauth2_provider.admin.ApplicationAdmin",
    "ACCESS_TOKEN_ADMIN_CLASS": "oauth2_provider.admin.AccessTokenAdmin",
    "GRANT_ADMIN_CLASS": "oauth2_provider.admin.GrantAdmin",
    "ID_TOKEN_ADMIN_CLASS": "oauth2_provider.admin.IDTokenAdmin",
    "REFRESH_TOKEN_ADMIN_CLASS": "oauth2_provider.admin.RefreshTokenAdmin",
    "REQUEST_APPROVAL_PROMPT": "force",
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
    "ALLOWED_SCHEMES": ["https"],
    "OIDC_ENABLED": False,
    "OIDC_ISS_ENDPOINT": "",
    "OIDC_USERINFO_ENDPOINT": "",
    "OIDC_RSA_PRIVATE_KEY": "",
    "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [],
    "OIDC_JWKS_MAX_AGE_SECONDS": 3600,
    "OIDC_RESPONSE_TYPES_SUPPORTED": [
        "code",
        "token",
        "id_token",
        "id_token token",
        "code token",
        "code id_token",
        "code id_token token",
    ],
    "OIDC_SUBJECT_TYPES_SUPPORTED": ["public"],
    "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["client_secret_post", "client_secret_basic"],
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": False,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": True,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": False,
    "OIDC_RP_INITIATED_LOGOUT_ACCEPT_EXPIRED_TOKENS": True,
    "OIDC_RP_INITIATED_LOGOUT_DELETE_TOKENS": True,
    "_SCOPES": [],
    "_DEFAULT_SCOPES": [],
    "RESOURCE_SERVER_INTROSPECTION_URL": None,
    "RESOURCE_SERVER_AUTH_TOKEN": None,
    "RESOURCE_SERVER_INTROSPECTION_CREDENTIALS": None,
    # Not in DOT 3.0.1: backported from upstream's master (PR #1832), same default.
    "RESOURCE_SERVER_INTROSPECTION_TIMEOUT_SECONDS": 5,
    "RESOURCE_SERVER_TOKEN_CACHING_SECONDS": 36000,
    "AUTHENTICATION_SERVER_EXP_TIME_ZONE": "UTC",
    "PKCE_REQUIRED": True,
    "ALWAYS_RELOAD_OAUTHLIB_CORE": False,
    "CLEAR_EXPIRED_TOKENS_BATCH_SIZE": 10000,
    "CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL": 0,
    # Not in DOT: rows per statement of migration 0012's checksum backfill.
    "TOKEN_CHECKSUM_BATCH_SIZE": 10000,
    # Not in DOT: seconds between two pages of ``tokenchecksum prepare``.
    "TOKEN_CHECKSUM_BATCH_INTERVAL": 0,
    # Not in DOT: replicas whose lag paces prepare, cleartokens and 0012's committed pages; the most lag.
    "REPLICA_LAG_DATABASES": [],
    "REPLICA_LAG_MAX_SECONDS": 1,
    # Not in DOT: seconds migration 0012 waits for a lock on the access token table (None: no limit of ours).
    "TOKEN_CHECKSUM_MIGRATION_LOCK_TIMEOUT": None,
}

DOT_3_0_1_MANDATORY = {
    "CLIENT_ID_GENERATOR_CLASS",
    "CLIENT_SECRET_GENERATOR_CLASS",
    "OAUTH2_SERVER_CLASS",
    "OAUTH2_VALIDATOR_CLASS",
    "OAUTH2_BACKEND_CLASS",
    "SCOPES",
    "ALLOWED_REDIRECT_URI_SCHEMES",
    "OIDC_RESPONSE_TYPES_SUPPORTED",
    "OIDC_SUBJECT_TYPES_SUPPORTED",
    "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED",
}

DOT_3_0_1_IMPORT_STRINGS = {
    "CLIENT_ID_GENERATOR_CLASS",
    "CLIENT_SECRET_GENERATOR_CLASS",
    "ACCESS_TOKEN_GENERATOR",
    "REFRESH_TOKEN_GENERATOR",
    "OAUTH2_SERVER_CLASS",
    "OAUTH2_VALIDATOR_CLASS",
    "OAUTH2_BACKEND_CLASS",
    "SCOPES_BACKEND_CLASS",
    "APPLICATION_ADMIN_CLASS",
    "ACCESS_TOKEN_ADMIN_CLASS",
    "GRANT_ADMIN_CLASS",
    "ID_TOKEN_ADMIN_CLASS",
    "REFRESH_TOKEN_ADMIN_CLASS",
}

COMPUTED_KEYS = {"_SCOPES", "_DEFAULT_SCOPES"}


def _import_default_params():
    return [key for key in sorted(DOT_3_0_1_IMPORT_STRINGS) if DOT_3_0_1_DEFAULTS[key] is not None]


def _discovery_view(request):
    return HttpResponse()


# oidc_issuer() reverses the discovery URL; upstream serves it at <prefix>/.well-known/openid-configuration.
urlpatterns = [
    path(
        "o/",
        include(
            (
                [
                    path(
                        ".well-known/openid-configuration",
                        _discovery_view,
                        name="oidc-connect-discovery-info",
                    )
                ],
                "oauth2_provider",
            )
        ),
    )
]


class FixedClientIdGenerator(generators.BaseHashGenerator):
    def hash(self):
        return "fixed-client-id"


@pytest.fixture
def make_settings():
    """A settings object of its own, isolated from the global one, for the given user settings."""

    def make(**user_settings):
        return OAuth2ProviderSettings(user_settings, DEFAULTS, IMPORT_STRINGS, MANDATORY)

    return make


def test_defaults_are_those_of_dot_3_0_1():
    assert DEFAULTS == DOT_3_0_1_DEFAULTS


def test_mandatory_and_import_string_keys_are_those_of_dot_3_0_1():
    assert set(MANDATORY) == DOT_3_0_1_MANDATORY
    assert set(IMPORT_STRINGS) == DOT_3_0_1_IMPORT_STRINGS


@pytest.mark.parametrize(
    "key", sorted(set(DOT_3_0_1_DEFAULTS) - DOT_3_0_1_IMPORT_STRINGS - COMPUTED_KEYS), ids=str
)
def test_plain_default_is_returned_unchanged(make_settings, key):
    assert getattr(make_settings(), key) == DOT_3_0_1_DEFAULTS[key]


@pytest.mark.parametrize("key", _import_default_params())
def test_import_string_default_is_resolved_to_the_object(make_settings, key):
    assert getattr(make_settings(), key) is import_string(DOT_3_0_1_DEFAULTS[key])


def test_token_generators_default_to_none(make_settings):
    conf = make_settings()
    assert conf.ACCESS_TOKEN_GENERATOR is None
    assert conf.REFRESH_TOKEN_GENERATOR is None


def test_checksum_backfill_batch_size_defaults_to_10000_and_can_be_set(make_settings):
    assert make_settings().TOKEN_CHECKSUM_BATCH_SIZE == 10000
    assert make_settings(TOKEN_CHECKSUM_BATCH_SIZE=500).TOKEN_CHECKSUM_BATCH_SIZE == 500


def test_user_value_wins_over_default(make_settings):
    assert make_settings(ACCESS_TOKEN_EXPIRE_SECONDS=5).ACCESS_TOKEN_EXPIRE_SECONDS == 5


def test_user_import_string_is_resolved(make_settings):
    conf = make_settings(CLIENT_ID_GENERATOR_CLASS="tests.test_settings.FixedClientIdGenerator")
    assert conf.CLIENT_ID_GENERATOR_CLASS is FixedClientIdGenerator


@pytest.mark.parametrize("container", [list, tuple])
def test_list_of_import_strings_is_resolved_to_a_list(make_settings, container):
    paths = container(
        ["oauth2_provider.generators.ClientIdGenerator", "tests.test_settings.FixedClientIdGenerator"]
    )
    conf = make_settings(ACCESS_TOKEN_GENERATOR=paths)
    assert conf.ACCESS_TOKEN_GENERATOR == [generators.ClientIdGenerator, FixedClientIdGenerator]


def test_object_given_instead_of_import_string_is_kept(make_settings):
    def token_generator(request):
        return "token"

    assert make_settings(ACCESS_TOKEN_GENERATOR=token_generator).ACCESS_TOKEN_GENERATOR is token_generator


def test_keys_outside_import_strings_are_not_imported(make_settings):
    dotted = "oauth2_provider.generators.ClientIdGenerator"
    assert make_settings(READ_SCOPE=dotted).READ_SCOPE == dotted


@pytest.mark.parametrize(
    ("dotted_path", "cause"),
    [
        ("tests.no_such_module.Generator", "ModuleNotFoundError: No module named 'tests.no_such_module'"),
        (
            "oauth2_provider.generators.NoSuchGenerator",
            'ImportError: Module "oauth2_provider.generators" does not define a "NoSuchGenerator" '
            "attribute/class",
        ),
    ],
)
def test_unimportable_path_raises_import_error_naming_the_setting(make_settings, dotted_path, cause):
    conf = make_settings(CLIENT_ID_GENERATOR_CLASS=dotted_path)
    with pytest.raises(ImportError) as excinfo:
        _ = conf.CLIENT_ID_GENERATOR_CLASS
    assert str(excinfo.value) == (
        f"Could not import '{dotted_path}' for setting 'CLIENT_ID_GENERATOR_CLASS'. {cause}."
    )


def test_one_bad_path_in_a_list_fails_the_whole_setting(make_settings):
    conf = make_settings(
        ACCESS_TOKEN_GENERATOR=["oauth2_provider.generators.ClientIdGenerator", "tests.nowhere.Nothing"]
    )
    with pytest.raises(ImportError, match="for setting 'ACCESS_TOKEN_GENERATOR'"):
        _ = conf.ACCESS_TOKEN_GENERATOR


def test_unknown_key_raises_attribute_error(make_settings):
    with pytest.raises(AttributeError, match="^Invalid OAuth2Provider setting: NO_SUCH_SETTING$"):
        _ = make_settings().NO_SUCH_SETTING


@pytest.mark.parametrize("key", sorted(DOT_3_0_1_MANDATORY))
@pytest.mark.parametrize("empty", [None, "", [], {}], ids=repr)
def test_mandatory_key_may_not_be_empty(make_settings, key, empty):
    conf = make_settings(**{key: empty})
    with pytest.raises(AttributeError, match=f"^OAuth2Provider setting: {key} is mandatory$"):
        getattr(conf, key)


def test_optional_key_may_be_empty(make_settings):
    conf = make_settings(ALLOWED_SCHEMES=[], OIDC_ISS_ENDPOINT="")
    assert conf.ALLOWED_SCHEMES == []
    assert conf.OIDC_ISS_ENDPOINT == ""


def test_scopes_list_holds_the_scope_names_in_order(make_settings):
    conf = make_settings(SCOPES={"b": "B", "a": "A", "c": "C"})
    assert conf._SCOPES == ["b", "a", "c"]


def test_computed_scopes_ignore_user_values(make_settings):
    conf = make_settings(SCOPES={"a": "A"}, _SCOPES=["forged"], _DEFAULT_SCOPES=["forged"])
    assert conf._SCOPES == ["a"]
    assert conf._DEFAULT_SCOPES == ["a"]


@pytest.mark.parametrize(
    ("default_scopes", "expected"),
    [
        (["__all__"], ["a", "b", "c"]),
        (["c", "a"], ["c", "a"]),
        ([], []),
        (["a", "__all__"], ["a", "b", "c"]),
    ],
)
def test_default_scopes_are_all_scopes_or_the_listed_subset(make_settings, default_scopes, expected):
    conf = make_settings(SCOPES={"a": "A", "b": "B", "c": "C"}, DEFAULT_SCOPES=default_scopes)
    assert conf._DEFAULT_SCOPES == expected


def test_default_scope_outside_scopes_is_a_configuration_error(make_settings):
    conf = make_settings(SCOPES={"a": "A"}, DEFAULT_SCOPES=["a", "admin"])
    with pytest.raises(ImproperlyConfigured, match="^Defined DEFAULT_SCOPES not present in SCOPES$"):
        _ = conf._DEFAULT_SCOPES


def test_server_class_is_plain_oauth2_without_oidc(make_settings):
    assert make_settings().OAUTH2_SERVER_CLASS is import_string("oauthlib.oauth2.Server")


def test_oidc_switches_the_default_server_class(make_settings):
    conf = make_settings(OIDC_ENABLED=True)
    assert conf.OAUTH2_SERVER_CLASS is import_string("oauthlib.openid.Server")


class ProjectOIDCServer:
    """A project's OpenID Connect server class (OIDC_SERVER_CLASS)."""


def test_oidc_uses_the_projects_oidc_server_class(make_settings):
    """Upstream 3.4.1: 3.0.1 took the default OIDC_SERVER_CLASS here, ignoring the project's."""
    conf = make_settings(OIDC_ENABLED=True, OIDC_SERVER_CLASS=f"{__name__}.ProjectOIDCServer")
    assert conf.OAUTH2_SERVER_CLASS is ProjectOIDCServer


def test_explicit_server_class_wins_over_oidc_default(make_settings):
    conf = make_settings(OIDC_ENABLED=True, OAUTH2_SERVER_CLASS="oauthlib.oauth2.BackendApplicationServer")
    assert conf.OAUTH2_SERVER_CLASS is import_string("oauthlib.oauth2.BackendApplicationServer")


def test_global_settings_follow_override_settings():
    assert oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS == 36000
    with override_settings(OAUTH2_PROVIDER={"ACCESS_TOKEN_EXPIRE_SECONDS": 42, "SCOPES": {"x": "X"}}):
        assert oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS == 42
        assert oauth2_settings._SCOPES == ["x"]
    assert oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS == 36000
    assert oauth2_settings._SCOPES == ["read", "write"]


def test_values_are_cached_until_reload():
    user_settings = {"READ_SCOPE": "before"}
    conf = OAuth2ProviderSettings(user_settings, DEFAULTS, IMPORT_STRINGS, MANDATORY)
    assert conf.READ_SCOPE == "before"
    user_settings["READ_SCOPE"] = "after"
    assert conf.READ_SCOPE == "before"


def test_reload_reads_the_django_setting_again(settings):
    settings.OAUTH2_PROVIDER = {"READ_SCOPE": "first"}
    assert oauth2_settings.READ_SCOPE == "first"
    settings.OAUTH2_PROVIDER["READ_SCOPE"] = "second"  # mutated in place: no setting_changed signal
    assert oauth2_settings.READ_SCOPE == "first"
    oauth2_settings.reload()
    assert oauth2_settings.READ_SCOPE == "second"


def test_server_kwargs_come_from_the_token_settings(make_settings):
    conf = make_settings(
        ACCESS_TOKEN_EXPIRE_SECONDS=60,
        REFRESH_TOKEN_EXPIRE_SECONDS=600,
        ACCESS_TOKEN_GENERATOR="oauth2_provider.generators.ClientIdGenerator",
    )
    assert conf.server_kwargs == {
        "token_expires_in": 60,
        "refresh_token_expires_in": 600,
        "token_generator": generators.ClientIdGenerator,
        "refresh_token_generator": None,
    }


def test_extra_server_kwargs_override_and_extend_the_derived_ones(make_settings):
    def refresh_token_generator(request):
        return "refresh"

    conf = make_settings(
        ACCESS_TOKEN_EXPIRE_SECONDS=60,
        EXTRA_SERVER_KWARGS={
            "token_expires_in": 5,
            "refresh_token_generator": refresh_token_generator,
            "x": 1,
        },
    )
    assert conf.server_kwargs == {
        "token_expires_in": 5,
        "refresh_token_expires_in": None,
        "token_generator": None,
        "refresh_token_generator": refresh_token_generator,
        "x": 1,
    }


def test_configured_issuer_is_returned_for_any_request(make_settings):
    conf = make_settings(OIDC_ISS_ENDPOINT="https://issuer.example/tenant")
    assert conf.oidc_issuer(RequestFactory().get("/")) == "https://issuer.example/tenant"
    assert conf.oidc_issuer(OAuthlibRequest("https://other.example/")) == "https://issuer.example/tenant"


@pytest.fixture
def idp_host(settings):
    settings.ALLOWED_HOSTS = ["idp.example"]
    return "idp.example"


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(("secure", "scheme"), [(False, "http"), (True, "https")])
def test_issuer_is_derived_from_a_django_request(make_settings, idp_host, secure, scheme):
    request = RequestFactory().get("/anything", HTTP_HOST=idp_host, secure=secure)
    assert make_settings().oidc_issuer(request) == f"{scheme}://idp.example/o"


@pytest.mark.urls(__name__)
def test_issuer_is_derived_from_an_oauthlib_request_over_http(make_settings, idp_host):
    request = OAuthlibRequest("https://idp.example/o/token/", headers={"HTTP_HOST": idp_host})
    # Without the toolkit's marker header, the request counts as plain http.
    assert make_settings().oidc_issuer(request) == "http://idp.example/o"


@pytest.mark.urls(__name__)
def test_issuer_of_an_oauthlib_request_marked_secure_is_https(make_settings, idp_host):
    headers = {"HTTP_HOST": idp_host, "X_DJANGO_OAUTH_TOOLKIT_SECURE": "1"}
    request = OAuthlibRequest("https://idp.example/o/token/", headers=headers)
    assert make_settings().oidc_issuer(request) == "https://idp.example/o"


@pytest.mark.parametrize("not_a_request", ["https://idp.example/", None, {"HTTP_HOST": "idp.example"}])
def test_issuer_needs_a_django_or_oauthlib_request(make_settings, not_a_request):
    with pytest.raises(TypeError, match="^request must be a django or oauthlib request: got "):
        make_settings().oidc_issuer(not_a_request)
