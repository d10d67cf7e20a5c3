import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponseForbidden, HttpResponseNotFound

from .._resource_server import (
    SAFE_HTTP_METHODS,  # noqa: F401 -- upstream compatibility: DOT 3.0.1 defines it here
    check_read_write_scopes,
    read_or_write_scope,
    verify_request,
)
from ..exceptions import FatalClientError
from ..oauth2_backends import _build_server
from ..settings import oauth2_settings


log = logging.getLogger("oauth2_provider")


def _own_or_setting(view_class_attribute, setting):
    """The class a view sets, or the one its setting names when the view leaves it to None."""
    if view_class_attribute is None:
        return getattr(oauth2_settings, setting)
    return view_class_attribute


class OAuthLibMixin:
    """Gives a view the oauthlib machinery: a server, its validator and the ``OAuthLibCore`` around them.

    Each of ``server_class``, ``validator_class`` and ``oauthlib_backend_class`` may be set on the
    view; left to None, it is the ``OAUTH2_SERVER_CLASS``, ``OAUTH2_VALIDATOR_CLASS`` or
    ``OAUTH2_BACKEND_CLASS`` setting.
    """

    server_class = None
    validator_class = None
    oauthlib_backend_class = None

    @classmethod
    def get_server_class(cls):
        return _own_or_setting(cls.server_class, "OAUTH2_SERVER_CLASS")

    @classmethod
    def get_validator_class(cls):
        return _own_or_setting(cls.validator_class, "OAUTH2_VALIDATOR_CLASS")

    @classmethod
    def get_oauthlib_backend_class(cls):
        return _own_or_setting(cls.oauthlib_backend_class, "OAUTH2_BACKEND_CLASS")

    @classmethod
    def get_server(cls):
        """A new server of the view's server class, with a new validator."""
        return _build_server(cls.get_server_class(), cls.get_validator_class())

    @classmethod
    def get_oauthlib_core(cls):
        """The view class's ``OAuthLibCore``, built on first use and then kept on the class.

        Building a server is not free, so it is shared by every request the view serves, unless
        ``ALWAYS_RELOAD_OAUTHLIB_CORE`` asks for a new one each time (tests that change settings).
        The cache is looked up on the class itself: a subclass with other server, validator or
        backend classes must not inherit the core its parent built.
        """
        if oauth2_settings.ALWAYS_RELOAD_OAUTHLIB_CORE or "_oauthlib_core" not in vars(cls):
            cls._oauthlib_core = cls.get_oauthlib_backend_class()(cls.get_server())
        return cls._oauthlib_core

    def validate_authorization_request(self, request):
        return self.get_oauthlib_core().validate_authorization_request(request)

    def create_authorization_response(self, request, scopes, credentials, allow):
        """Like ``OAuthLibCore.create_authorization_response``, but ``scopes`` is a space-separated string."""
        scope_list = scopes.split(" ") if scopes else []
        return self.get_oauthlib_core().create_authorization_response(request, scope_list, credentials, allow)

    def create_token_response(self, request):
        return self.get_oauthlib_core().create_token_response(request)

    def create_revocation_response(self, request):
        return self.get_oauthlib_core().create_revocation_response(request)

    def create_userinfo_response(self, request):
        return self.get_oauthlib_core().create_userinfo_response(request)

    def verify_request(self, request):
        """``(valid, oauthlib_request)`` for the scopes of ``get_scopes()``.

        A query with a broken percent-escape raises ``SuspiciousOperation``, which Django answers
        with a 400.
        """
        return verify_request(self.get_oauthlib_core(), request, scopes=self.get_scopes())

    def get_scopes(self):
        """The scopes a token needs to reach this view: none, unless a subclass says otherwise."""
        return []

    def error_response(self, error, **kwargs):
        """``(redirect, context)`` describing how to answer an ``OAuthToolkitError``.

        ``context`` has the oauthlib error as ``error`` and, as ``url``, the client's redirect URI
        with the error parameters appended, plus ``kwargs``. ``redirect`` is False for a
        ``FatalClientError``: the client or its redirect URI is not to be trusted, so the error is
        shown to the user instead.
        """
        oauthlib_error = error.oauthlib_error
        redirect_uri = oauthlib_error.redirect_uri or ""
        separator = "&" if "?" in redirect_uri else "?"
        context = {"error": oauthlib_error, "url": f"{redirect_uri}{separator}{oauthlib_error.urlencoded}"}
        context.update(kwargs)
        return not isinstance(error, FatalClientError), context

    def authenticate_client(self, request):
        """Whether the request carries valid client credentials (HTTP Basic or in the body)."""
        return self.get_oauthlib_core().authenticate_client(request)


class ScopedResourceMixin:
    """Takes the scopes a view requires from its ``required_scopes`` attribute."""

    required_scopes = None

    def get_scopes(self, *args, **kwargs):
        if self.required_scopes is None:
            raise ImproperlyConfigured(
                "ProtectedResourceMixin requires either a definition of 'required_scopes'"
                " or an implementation of 'get_scopes()'"
            )
        return self.required_scopes


class ProtectedResourceMixin(OAuthLibMixin):
    """Lets a request through only with a valid access token; ``request.resource_owner`` is its user.

    CORS preflight (``OPTIONS``) requests carry no token and always pass.
    """

    def dispatch(self, request, *args, **kwargs):
        if request.method.upper() != "OPTIONS":
            valid, oauthlib_request = self.verify_request(request)
            if not valid:
                return HttpResponseForbidden()
            request.resource_owner = oauthlib_request.user
        return super().dispatch(request, *args, **kwargs)


class ReadWriteScopedResourceMixin(ScopedResourceMixin, OAuthLibMixin):
    """Adds the ``READ_SCOPE`` to the required scopes for safe methods, ``WRITE_SCOPE`` for the others."""

    required_scopes = []
    read_write_scope = None

    def __new__(cls, *args, **kwargs):
        # Checked when the view is instantiated: without both scopes no request could ever pass.
        check_read_write_scopes("ReadWriteScopedResourceMixin")
        # object.__new__ takes no other argument: as_view()'s initkwargs are for __init__.
        return super().__new__(cls)

    def dispatch(self, request, *args, **kwargs):
        self.read_write_scope = read_or_write_scope(request.method)
        return super().dispatch(request, *args, **kwargs)

    def get_scopes(self, *args, **kwargs):
        # A new list: required_scopes is shared by every instance of the view.
        return super().get_scopes(*args, **kwargs) + [self.read_write_scope]


class ClientProtectedResourceMixin(OAuthLibMixin):
    """Lets a request through when it authenticates a client (RFC 6749 section 2.3.1), else with a token.

    Client credentials are tried first, HTTP Basic then the body; failing those, an access token
    is accepted and its user becomes ``request.resource_owner``. ``OPTIONS`` always passes.
    """

    def dispatch(self, request, *args, **kwargs):
        if request.method.upper() != "OPTIONS" and not self.authenticate_client(request):
            valid, oauthlib_request = self.verify_request(request)
            if not valid:
                return HttpResponseForbidden()
            request.resource_owner = oauthlib_request.user
        return super().dispatch(request, *args, **kwargs)


class OIDCOnlyMixin:
    """For views that exist only with ``OIDC_ENABLED``.

    Otherwise the view answers 404 and logs ``debug_error_message`` as a warning; with ``DEBUG``
    on it raises ``ImproperlyConfigured`` with that message instead, so the cause is obvious.
    """

    debug_error_message = (
        "django-oauth-toolkit OIDC views are not enabled unless you "
        "have configured OIDC_ENABLED in the settings"
    )

    def dispatch(self, *args, **kwargs):
        if not self._view_enabled():
            return self._disabled_view_response()
        return super().dispatch(*args, **kwargs)

    def _view_enabled(self):
        return oauth2_settings.OIDC_ENABLED

    def _disabled_view_response(self):
        if settings.DEBUG:
            raise ImproperlyConfigured(self.debug_error_message)
        log.warning(self.debug_error_message)
        return HttpResponseNotFound()


class OIDCLogoutOnlyMixin(OIDCOnlyMixin):
    """For views that exist only with ``OIDC_RP_INITIATED_LOGOUT_ENABLED`` (and ``OIDC_ENABLED``)."""

    debug_error_message = (
        "The django-oauth-toolkit OIDC RP-Initiated Logout view is not enabled unless you "
        "have configured OIDC_RP_INITIATED_LOGOUT_ENABLED in the settings"
    )

    def _view_enabled(self):
        return oauth2_settings.OIDC_RP_INITIATED_LOGOUT_ENABLED and super()._view_enabled()
