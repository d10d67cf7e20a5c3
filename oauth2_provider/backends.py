"""A Django authentication backend that logs in the owner of an OAuth2 bearer token."""

from django.contrib.auth import get_user_model

from ._resource_server import verify_request
from .oauth2_backends import get_oauthlib_core


UserModel = get_user_model()

# One oauthlib core for the process, built when Django first loads this backend.
OAuthLibCore = get_oauthlib_core()


class OAuth2Backend:
    """Authenticate a request by its bearer token: ``authenticate(request=request)``.

    Add ``"oauth2_provider.backends.OAuth2Backend"`` to ``AUTHENTICATION_BACKENDS``; the middleware
    ``oauth2_provider.middleware.OAuth2TokenMiddleware`` calls it for requests with a bearer token.
    """

    def authenticate(self, request=None, **credentials):
        """The user of the request's valid access token, or None (other credentials are not ours)."""
        if request is None:
            return None
        valid, oauthlib_request = verify_request(OAuthLibCore, request, scopes=[])
        return oauthlib_request.user if valid else None

    def get_user(self, user_id):
        try:
            return UserModel._default_manager.get(pk=user_id)
        except UserModel.DoesNotExist:
            return None
