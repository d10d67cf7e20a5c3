"""Middleware that turns an OAuth2 bearer token into ``request.user`` or ``request.access_token``."""

import logging

from django.contrib.auth import authenticate
from django.utils.cache import patch_vary_headers

from ._lookups import access_token_with_value


log = logging.getLogger(__name__)


class OAuth2TokenMiddleware:
    """Authenticate the user of a request that carries a bearer token.

    The token is checked by Django's ``authenticate()``, so ``oauth2_provider.backends.OAuth2Backend`` must
    be in ``AUTHENTICATION_BACKENDS``. Where this middleware sits matters:

    - after ``AuthenticationMiddleware``: a user already logged in through the session is kept, and the
      token is only checked when ``request.user`` is anonymous;
    - before it, or without it: the token's user becomes ``request.user``, and ``request._cached_user``
      too, so that a later ``AuthenticationMiddleware`` keeps that user instead of the session's.

    Every response gets ``Vary: Authorization``: its content depends on the header, and caches (Django's
    or a proxy's) must key on it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Only a well-formed bearer header is worth a lookup; the backend then reads it as oauthlib does.
        if bearer_token(_authorization(request)) is not None and _is_anonymous(request):
            user = authenticate(request=request)
            if user is not None:
                request.user = request._cached_user = user
        response = self.get_response(request)
        patch_vary_headers(response, ("Authorization",))
        return response


def _authorization(request):
    return request.META.get("HTTP_AUTHORIZATION", "")


def _is_anonymous(request):
    """Whether the request has no user yet, or only the anonymous one."""
    return getattr(request, "user", None) is None or request.user.is_anonymous


class OAuth2ExtraTokenMiddleware:
    """Attach the ``AccessToken`` named by a bearer token to ``request.access_token``.

    The token is looked up, not validated: an expired token, or one without the scopes a view wants, is
    attached as well, for code that wants to inspect it. Nothing is attached when no token matches.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = bearer_token(_authorization(request))
        if token is not None:
            access_token = access_token_with_value(token)
            if access_token is None:
                log.debug("No access token matches the bearer token of the request")
            else:
                request.access_token = access_token
        return self.get_response(request)


def bearer_token(header):
    """The token of an ``Authorization: Bearer <token>`` header, or None when it is not one.

    Read as oauthlib reads it: the scheme is case-insensitive (RFC 7235 section 2.1) and exact, so
    "BearerX t" is another scheme; exactly one token follows, as a token68 has no whitespace (RFC 6750
    section 2.1), so "Bearer t extra" is malformed. The middlewares and the views must agree on what the
    token is (upstream #1732).
    """
    words = header.split(maxsplit=2)
    if len(words) != 2 or words[0].lower() != "bearer":
        return None
    return words[1]
