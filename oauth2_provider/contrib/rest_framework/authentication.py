from rest_framework.authentication import BaseAuthentication

from ..._resource_server import verify_request
from ...oauth2_backends import get_oauthlib_core


class OAuth2Authentication(BaseAuthentication):
    """Django REST framework authentication by OAuth2 bearer token.

    A valid token authenticates the request as ``(token.user, token)``: ``request.auth`` is the
    ``AccessToken``, which the permission classes of this package read the scopes from. A request whose
    token is missing or invalid is left unauthenticated; if the view then answers 401, its
    ``WWW-Authenticate`` header says why (RFC 6750 section 3), e.g.
    ``Bearer realm="api",error="invalid_token",error_description="The access token has expired."``.
    """

    www_authenticate_realm = "api"

    def authenticate(self, request):
        if request is None:
            return None
        valid, oauthlib_request = verify_request(get_oauthlib_core(), request, scopes=[])
        if valid:
            return oauthlib_request.user, oauthlib_request.access_token
        # The validator records why it refused the token; authenticate_header() reports it.
        request.oauth2_error = getattr(oauthlib_request, "oauth2_error", {})
        return None

    def authenticate_header(self, request):
        attributes = {"realm": self.www_authenticate_realm, **getattr(request, "oauth2_error", {})}
        return f"Bearer {self._dict_to_string(attributes)}"

    def _dict_to_string(self, my_dict):
        """``key="value"`` pairs joined by commas, each value a quoted-string (RFC 7230 section 3.2.6)."""
        return ",".join(f'{key}="{_quoted_string_content(value)}"' for key, value in my_dict.items())


def _quoted_string_content(value):
    """``value`` with the two characters a quoted-string must escape, backslash and double quote, escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"')
