"""Helpers shared by the resource-server entry points: the view mixins, the view decorators, the
authentication backend and the Django REST framework classes."""

from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation

from ._request_values import is_unparsable_request_error
from .scopes import get_scopes_backend
from .settings import oauth2_settings


# The methods that only read, answered with the read scope (the others need the write scope).
SAFE_HTTP_METHODS = ["GET", "HEAD", "OPTIONS"]


def verify_request(core, request, scopes):
    """``core.verify_request(request, scopes=scopes)``: (valid, oauthlib request).

    A request oauthlib cannot parse (a malformed query string) raises ``SuspiciousOperation``, which
    Django answers with a 400, instead of the ``ValueError`` (a 500) oauthlib raises. Any other
    ``ValueError`` is a bug and propagates.
    """
    try:
        return core.verify_request(request, scopes=scopes)
    except ValueError as error:
        if not is_unparsable_request_error(error):
            raise
        raise SuspiciousOperation(error) from error


def read_or_write_scope(method):
    """The settings' read scope for a method in ``SAFE_HTTP_METHODS``, the write scope for any other."""
    if method.upper() in SAFE_HTTP_METHODS:
        return oauth2_settings.READ_SCOPE
    return oauth2_settings.WRITE_SCOPE


def check_read_write_scopes(user):
    """Raise ImproperlyConfigured, naming ``user``, unless both the read and the write scope exist.

    Without both no request could ever pass a read/write protected resource.
    """
    pair = [oauth2_settings.READ_SCOPE, oauth2_settings.WRITE_SCOPE]
    if not set(pair) <= set(get_scopes_backend().get_all_scopes()):
        raise ImproperlyConfigured(
            f'{user} requires following scopes {pair} to be in OAUTH2_PROVIDER["SCOPES"] list in settings'
        )
