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
        # DOT 3.0.1's cheap gate; the backend then reads the header the way oauthlib does.
        if _authorization(request).startswith("Bearer") and _is_anonymous(request):
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
        token = _bearer_word(_authorization(request))
        if token is not None:
            access_token = access_token_with_value(token)
            if access_token is None:
                log.debug("No access token matches the bearer token of the request")
            else:
                request.access_token = access_token
        return self.get_response(request)


def _bearer_word(header):
    """The word after the scheme of a header starting with "Bearer", or None.

    The same reading as DOT 3.0.1's (any header starting with "Bearer", second word), except that a header
    with nothing after the scheme means no token instead of an IndexError.
    """
    if not header.startswith("Bearer"):
        return None
    words = header.split()
    return words[1] if len(words) > 1 else None
