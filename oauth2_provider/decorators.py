"""Decorators that protect function-based views with OAuth2 bearer tokens.

The class-based equivalents are in ``oauth2_provider.views.generic``.
"""

from functools import wraps

from django.http import HttpResponseForbidden
from oauthlib.oauth2 import Server

from ._resource_server import check_read_write_scopes, read_or_write_scope, verify_request
from .oauth2_backends import OAuthLibCore
from .oauth2_validators import OAuth2Validator


def protected_resource(scopes=None, validator_cls=OAuth2Validator, server_cls=Server):
    """Let the view run only for a request with a valid bearer token granting every scope in ``scopes``.

    Other requests get a 403. The view finds the token's owner in ``request.resource_owner``::

        @protected_resource(scopes=["read"])
        def my_view(request):
            ...
    """
    required = list(scopes or [])
    return _token_protected(lambda request: required, validator_cls, server_cls)


def rw_protected_resource(scopes=None, validator_cls=OAuth2Validator, server_cls=Server):
    """``protected_resource`` that also requires the read scope for GET, HEAD and OPTIONS requests and the
    write scope for any other method.

    Both scopes must be among the configured ones (``OAUTH2_PROVIDER["SCOPES"]``); the check runs on each
    request, so that settings changed after import are honoured.
    """
    required = list(scopes or [])

    def scopes_for(request):
        check_read_write_scopes("rw_protected_resource decorator")
        return [*required, read_or_write_scope(request.method)]

    return _token_protected(scopes_for, validator_cls, server_cls)


def _token_protected(scopes_for, validator_cls, server_cls):
    """A decorator checking each request's bearer token against the scopes ``scopes_for(request)``.

    A new validator and oauthlib server serve each request, as in DOT 3.0.1: custom validators may keep
    per-request state on themselves.
    """

    def decorator(view_func):
        @wraps(view_func)
        def wrapper(request, *args, **kwargs):
            core = OAuthLibCore(server_cls(validator_cls()))
            valid, oauthlib_request = verify_request(core, request, scopes_for(request))
            if not valid:
                return HttpResponseForbidden()
            request.resource_owner = oauthlib_request.user
            return view_func(request, *args, **kwargs)

        return wrapper

    return decorator
