"""Settings of the OAuth2 provider.

Everything lives under one Django setting, ``OAUTH2_PROVIDER`` (a dict), except the
swappable model settings, which Django needs as top-level names. ``oauth2_settings``
resolves a key on first access (user value, else default), turns dotted paths into
objects for the keys in ``IMPORT_STRINGS`` and caches the result until ``reload()``,
which runs automatically when a test overrides ``OAUTH2_PROVIDER``.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.http import HttpRequest
from django.urls import reverse
from django.utils.module_loading import import_string
from oauthlib.common import Request


USER_SETTINGS = getattr(settings, "OAUTH2_PROVIDER", None)


def _model_setting(name, default):
    return getattr(settings, name, default)


APPLICATION_MODEL = _model_setting("OAUTH2_PROVIDER_APPLICATION_MODEL", "oauth2_provider.Application")
ACCESS_TOKEN_MODEL = _model_setting("OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL", "oauth2_provider.AccessToken")
ID_TOKEN_MODEL = _model_setting("OAUTH2_PROVIDER_ID_TOKEN_MODEL", "oauth2_provider.IDToken")
GRANT_MODEL = _model_setting("OAUTH2_PROVIDER_GRANT_MODEL", "oauth2_provider.Grant")
REFRESH_TOKEN_MODEL = _model_setting("OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL", "oauth2_provider.RefreshToken")

DEFAULTS = {
    # Client credentials
    "CLIENT_ID_GENERATOR_CLASS": "oauth2_provider.generators.ClientIdGenerator",
    "CLIENT_SECRET_GENERATOR_CLASS": "oauth2_provider.generators.ClientSecretGenerator",
    "CLIENT_SECRET_GENERATOR_LENGTH": 128,
    # Backport of DOT 3.1.0: the password hasher (an algorithm of PASSWORD_HASHERS) of stored secrets.
    "CLIENT_SECRET_HASHER": "default",
    # Token generation and the oauthlib server
    "ACCESS_TOKEN_GENERATOR": None,
    "REFRESH_TOKEN_GENERATOR": None,
    "EXTRA_SERVER_KWARGS": {},
    "OAUTH2_SERVER_CLASS": "oauthlib.oauth2.Server",
    "OIDC_SERVER_CLASS": "oauthlib.openid.Server",
    "OAUTH2_VALIDATOR_CLASS": "oauth2_provider.oauth2_validators.OAuth2Validator",
    "OAUTH2_BACKEND_CLASS": "oauth2_provider.oauth2_backends.OAuthLibCore",
    # Scopes
    "SCOPES": {"read": "Reading scope", "write": "Writing scope"},
    "DEFAULT_SCOPES": ["__all__"],
    "SCOPES_BACKEND_CLASS": "oauth2_provider.scopes.SettingsScopes",
    "READ_SCOPE": "read",
    "WRITE_SCOPE": "write",
    # Lifetimes
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 36000,
    "ID_TOKEN_EXPIRE_SECONDS": 36000,
    "REFRESH_TOKEN_EXPIRE_SECONDS": None,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "REFRESH_TOKEN_REUSE_PROTECTION": False,
    "ROTATE_REFRESH_TOKEN": True,
    "ERROR_RESPONSE_WITH_SCOPES": False,
    # Models and their admin classes
    "APPLICATION_MODEL": APPLICATION_MODEL,
    "ACCESS_TOKEN_MODEL": ACCESS_TOKEN_MODEL,
    "ID_TOKEN_MODEL": ID_TOKEN_MODEL,
    "GRANT_MODEL": GRANT_MODEL,
    "REFRESH_TOKEN_MODEL": REFRESH_TOKEN_MODEL,
    "APPLICATION_ADMIN_CLASS": "oauth2_provider.admin.ApplicationAdmin",
    "ACCESS_TOKEN_ADMIN_CLASS": "oauth2_provider.admin.AccessTokenAdmin",
    "GRANT_ADMIN_CLASS": "oauth2_provider.admin.GrantAdmin",
    "ID_TOKEN_ADMIN_CLASS": "oauth2_provider.admin.IDTokenAdmin",
    "REFRESH_TOKEN_ADMIN_CLASS": "oauth2_provider.admin.RefreshTokenAdmin",
    # Authorization endpoint
    "REQUEST_APPROVAL_PROMPT": "force",
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
    "ALLOWED_SCHEMES": ["https"],
    # OpenID Connect
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
    # Computed from SCOPES and DEFAULT_SCOPES on access; a user value is ignored.
    "_SCOPES": [],
    "_DEFAULT_SCOPES": [],
    # Resource server that introspects tokens at a remote authorization server
    "RESOURCE_SERVER_INTROSPECTION_URL": None,
    "RESOURCE_SERVER_AUTH_TOKEN": None,
    "RESOURCE_SERVER_INTROSPECTION_CREDENTIALS": None,
    # Backported from upstream's master (PR #1832), same key and default.
    "RESOURCE_SERVER_INTROSPECTION_TIMEOUT_SECONDS": 5,
    "RESOURCE_SERVER_TOKEN_CACHING_SECONDS": 36000,
    "AUTHENTICATION_SERVER_EXP_TIME_ZONE": "UTC",
    "PKCE_REQUIRED": True,
    # Build a fresh OAuthLibCore per request (for tests that change settings).
    "ALWAYS_RELOAD_OAUTHLIB_CORE": False,
    # cleartokens
    "CLEAR_EXPIRED_TOKENS_BATCH_SIZE": 10000,
    "CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL": 0,
    # django-oauth-toolkit-lts: rows per statement of the migration 0012 checksum backfill.
    "TOKEN_CHECKSUM_BATCH_SIZE": 10000,
    # django-oauth-toolkit-lts: seconds between two pages of ``manage.py tokenchecksum prepare``.
    "TOKEN_CHECKSUM_BATCH_INTERVAL": 0,
    # django-oauth-toolkit-lts: replicas (DATABASES aliases) whose lag paces the jobs that write in
    # committed pages (tokenchecksum prepare, cleartokens), and how far behind they may fall.
    "REPLICA_LAG_DATABASES": [],
    "REPLICA_LAG_MAX_SECONDS": 1,
    # django-oauth-toolkit-lts: seconds migration 0012 waits for a lock on the access token table before it
    # retries and gives up (None: as long as the database lets it).
    "TOKEN_CHECKSUM_MIGRATION_LOCK_TIMEOUT": None,
}

# Keys whose value may not be empty.
MANDATORY = (
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
)

# Keys whose value may be a dotted import path (or a list of them).
IMPORT_STRINGS = (
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
)


def perform_import(val, setting_name):
    """Resolve ``val`` when it is a dotted path or a list of them; return anything else unchanged."""
    if isinstance(val, str):
        return import_from_string(val, setting_name)
    if isinstance(val, (list, tuple)):
        return [import_from_string(path, setting_name) for path in val]
    return val


def import_from_string(val, setting_name):
    """Import the object named by the dotted path ``val``; the error names the setting at fault."""
    try:
        return import_string(val)
    except ImportError as exc:
        raise ImportError(
            f"Could not import {val!r} for setting {setting_name!r}. {type(exc).__name__}: {exc}."
        ) from exc


class _PhonyHttpRequest(HttpRequest):
    """A Django request built from an oauthlib request's headers, only to build absolute URLs."""

    _scheme = "http"

    def _get_scheme(self):
        return self._scheme


# The header OAuthLibCore.extract_headers sets on the oauthlib request when Django saw the request over
# TLS (and removes otherwise, so that a client cannot fake it); the issuer URL below reads it.
_SECURE_REQUEST_HEADER = "X_DJANGO_OAUTH_TOOLKIT_SECURE"


def _django_request_for(request):
    if isinstance(request, HttpRequest):
        return request
    if isinstance(request, Request):
        phony = _PhonyHttpRequest()
        phony.META = request.headers
        if request.headers.get(_SECURE_REQUEST_HEADER, False):
            phony._scheme = "https"
        return phony
    raise TypeError(f"request must be a django or oauthlib request: got {request!r}")


class OAuth2ProviderSettings:
    """Attribute access to the provider's settings, with defaults, imports and caching."""

    def __init__(self, user_settings=None, defaults=None, import_strings=None, mandatory=None):
        self._user_settings = user_settings or {}
        self.defaults = defaults or DEFAULTS
        self.import_strings = import_strings or IMPORT_STRINGS
        self.mandatory = mandatory or ()
        self._cached_attrs = set()

    @property
    def user_settings(self):
        # After reload() the dict is read again from django.conf.settings.
        if not hasattr(self, "_user_settings"):
            self._user_settings = getattr(settings, "OAUTH2_PROVIDER", {})
        return self._user_settings

    def __getattr__(self, attr):
        # Only reached for names not cached on the instance yet.
        if attr not in self.defaults:
            raise AttributeError(f"Invalid OAuth2Provider setting: {attr}")
        val = self._raw_value(attr)
        if val and attr in self.import_strings:
            val = perform_import(val, attr)
        if attr == "_SCOPES":
            val = list(self.SCOPES)
        elif attr == "_DEFAULT_SCOPES":
            val = self._resolve_default_scopes()
        self.validate_setting(attr, val)
        setattr(self, attr, val)
        self._cached_attrs.add(attr)
        return val

    def _raw_value(self, attr):
        if attr in self.user_settings:
            return self.user_settings[attr]
        # With OIDC on and no explicit server class, the OIDC server class is the default: the project's
        # OIDC_SERVER_CLASS if it sets one (upstream #1603).
        if attr == "OAUTH2_SERVER_CLASS" and self.OIDC_ENABLED:
            return self._raw_value("OIDC_SERVER_CLASS")
        return self.defaults[attr]

    def _resolve_default_scopes(self):
        if "__all__" in self.DEFAULT_SCOPES:
            return list(self._SCOPES)
        unknown = [scope for scope in self.DEFAULT_SCOPES if scope not in self._SCOPES]
        if unknown:
            raise ImproperlyConfigured("Defined DEFAULT_SCOPES not present in SCOPES")
        return list(self.DEFAULT_SCOPES)

    def validate_setting(self, attr, val):
        if attr in self.mandatory and not val:
            raise AttributeError(f"OAuth2Provider setting: {attr} is mandatory")

    @property
    def server_kwargs(self):
        """Keyword arguments for the oauthlib server; ``EXTRA_SERVER_KWARGS`` wins over the rest."""
        kwargs = {
            "token_expires_in": self.ACCESS_TOKEN_EXPIRE_SECONDS,
            "refresh_token_expires_in": self.REFRESH_TOKEN_EXPIRE_SECONDS,
            "token_generator": self.ACCESS_TOKEN_GENERATOR,
            "refresh_token_generator": self.REFRESH_TOKEN_GENERATOR,
        }
        kwargs.update(self.EXTRA_SERVER_KWARGS)
        return kwargs

    def reload(self):
        for attr in self._cached_attrs:
            delattr(self, attr)
        self._cached_attrs.clear()
        self.__dict__.pop("_user_settings", None)

    def oidc_issuer(self, request):
        """The issuer URL: ``OIDC_ISS_ENDPOINT`` if set, else derived from the request's host."""
        if self.OIDC_ISS_ENDPOINT:
            return self.OIDC_ISS_ENDPOINT
        discovery_url = _django_request_for(request).build_absolute_uri(
            reverse("oauth2_provider:oidc-connect-discovery-info")
        )
        return discovery_url.removesuffix("/.well-known/openid-configuration")


oauth2_settings = OAuth2ProviderSettings(USER_SETTINGS, DEFAULTS, IMPORT_STRINGS, MANDATORY)


def reload_oauth2_settings(*args, **kwargs):
    if kwargs["setting"] == "OAUTH2_PROVIDER":
        oauth2_settings.reload()


setting_changed.connect(reload_oauth2_settings)
