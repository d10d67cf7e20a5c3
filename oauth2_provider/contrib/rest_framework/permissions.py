"""Django REST framework permission classes that check the scopes of the request's access token.

They expect ``request.auth`` to be the ``AccessToken`` set by ``OAuth2Authentication``.
"""

import logging

from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated

from ..._resource_server import read_or_write_scope
from ...settings import oauth2_settings
from .authentication import OAuth2Authentication


log = logging.getLogger("oauth2_provider")


def _access_token(request, permission_name):
    """The request's OAuth2 access token; None without credentials or with credentials of another kind.

    Another authentication class may have put something else in ``request.auth``: that request has no
    token, so it is refused (a 403), and the warning tells the operator which authentication class the
    permission needs. Refusing rather than raising lets the permission be composed with ``|`` (upstream
    #1169).
    """
    token = request.auth
    if not token:
        return None
    if not hasattr(token, "scope"):
        log.warning(
            "%s requires the `oauth2_provider.contrib.rest_framework.OAuth2Authentication` "
            "authentication class to be used.",
            permission_name,
        )
        return None
    return token


def _view_attribute(view, name, permission_name):
    """``view.<name>``, or ImproperlyConfigured naming what the permission class needs."""
    try:
        return getattr(view, name)
    except AttributeError:
        message = f"{permission_name} requires the view to define the {name} attribute"
        raise ImproperlyConfigured(message) from None


class TokenHasScope(BasePermission):
    """The access token is valid and grants every scope of the view's ``required_scopes``.

    With ``ERROR_RESPONSE_WITH_SCOPES`` on, the 403 body of a token lacking scopes lists them under
    ``required_scopes``.
    """

    def has_permission(self, request, view):
        token = _access_token(request, type(self).__name__)
        if token is None:
            return False
        required_scopes = self.get_scopes(request, view)
        log.debug("Scopes required to access the resource: %s", required_scopes)
        if token.is_valid(required_scopes):
            return True
        if self._should_list_required_scopes(token, required_scopes):
            self.message = {
                "detail": PermissionDenied.default_detail,
                "required_scopes": list(required_scopes),
            }
        return False

    def get_scopes(self, request, view):
        return _view_attribute(view, "required_scopes", "TokenHasScope")

    @staticmethod
    def _should_list_required_scopes(token, required_scopes):
        """Only a live token refused for its scopes alone gets the list; an expired one learns nothing."""
        return bool(
            oauth2_settings.ERROR_RESPONSE_WITH_SCOPES
            and required_scopes
            and not token.is_expired()
            and not token.allow_scopes(required_scopes)
        )


class TokenHasReadWriteScope(TokenHasScope):
    """The access token grants the read scope for safe methods (GET, HEAD, OPTIONS), the write scope for
    the others, plus the view's ``required_scopes`` if it has any."""

    def get_scopes(self, request, view):
        view_scopes = super().get_scopes(request, view) if hasattr(view, "required_scopes") else []
        return [*view_scopes, read_or_write_scope(request.method)]


class TokenHasResourceScope(TokenHasScope):
    """For each scope ``s`` of the view's ``required_scopes``, the access token grants ``s:read`` (safe
    methods) or ``s:write`` (the others)."""

    def get_scopes(self, request, view):
        view_scopes = super().get_scopes(request, view) if hasattr(view, "required_scopes") else []
        suffix = read_or_write_scope(request.method)
        return [f"{scope}:{suffix}" for scope in view_scopes]


class IsAuthenticatedOrTokenHasScope(BasePermission):
    """A user authenticated by anything but ``OAuth2Authentication`` (a session, say) is let in; a request
    authenticated by token must pass ``TokenHasScope``.

    Combined with ``DjangoModelPermissions`` it serves the browsable API to logged-in users and the API to
    token-holding clients.
    """

    def has_permission(self, request, view):
        if IsAuthenticated().has_permission(request, view) and not isinstance(
            request.successful_authenticator, OAuth2Authentication
        ):
            return True
        return TokenHasScope().has_permission(request, view)


class TokenMatchesOASRequirements(BasePermission):
    """The access token satisfies one of the alternative scope lists given for the request's method.

    The view defines ``required_alternate_scopes``, in the shape of OpenAPI's list of alternative Security
    Requirement Objects: a dict from HTTP method to a list of scope lists, any one of which suffices::

        required_alternate_scopes = {
            "GET": [["read"]],
            "POST": [["create"], ["admin", "write"]],
        }

    A method missing from the dict is refused.
    """

    def has_permission(self, request, view):
        token = _access_token(request, type(self).__name__)
        if token is None:
            return False
        alternatives = self.get_required_alternate_scopes(request, view)
        method = request.method.upper()
        if method not in alternatives:
            log.warning("No alternative scopes are defined for method %s", method)
            return False
        log.debug("Alternative scopes to access the resource: %s", alternatives[method])
        return any(token.is_valid(scopes) for scopes in alternatives[method])

    def get_required_alternate_scopes(self, request, view):
        return _view_attribute(view, "required_alternate_scopes", "TokenMatchesOASRequirements")
