"""The token introspection endpoint (RFC 7662), for resource servers that do not share our database."""

import calendar

from django.contrib.auth import get_user_model
from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from oauthlib.oauth2.rfc6749.errors import InvalidRequestError

from .._lookups import access_token_with_value
from .._token_verdict import is_honoured
from ..compat import login_not_required
from ..models import AbstractAccessToken, get_access_token_model
from .generic import ClientProtectedScopedResourceView


def _missing_token_response():
    """The RFC 6749 style ``invalid_request`` answer for a request without a ``token`` parameter."""
    error = InvalidRequestError(description="Missing token parameter.")
    response = JsonResponse(dict(error.twotuples), status=error.status_code)
    # Same caching headers oauthlib puts on the error responses of its own endpoints.
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def _introspection_fields():
    """The fields of an access token (and of its application and user) to load for introspecting it,
    or ``()`` for whole rows.

    As shipped, the answer needs the token's scope and expiry, its application's client id and its user's
    username and ``is_active`` (see ``is_honoured``), out of about forty columns of the three rows. An
    access token model whose validity checks are its own gets whole rows; anything else a project's model
    reads (an ``is_usable`` of its own, say) loads when read.
    """
    access_token_model = get_access_token_model()
    if any(
        getattr(access_token_model, name) is not getattr(AbstractAccessToken, name)
        for name in ("is_valid", "is_expired", "allow_scopes")
    ):
        return ()
    user_model = get_user_model()
    user_fields = [f"user__{user_model.USERNAME_FIELD}"]
    # A user model without the column answers is_active from a class attribute (AbstractBaseUser: True).
    if any(field.name == "is_active" for field in user_model._meta.concrete_fields):
        user_fields.append("user__is_active")
    return ("scope", "expires", "application__client_id", *user_fields)


def _active_token_claims(token):
    """What RFC 7662 lets us say about a valid token; ``client_id``/``username`` only when it has them."""
    claims = {
        "active": True,
        "scope": token.scope,
        # ``timegm`` reads the tuple as UTC, which also gives the 3.0.1 value for naive datetimes.
        "exp": calendar.timegm(token.expires.timetuple()),
    }
    if token.application is not None:
        claims["client_id"] = token.application.client_id
    if token.user is not None:
        claims["username"] = token.user.get_username()
    return claims


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
# On dispatch: the caller's credentials are checked there, before post() (upstream #1512).
@method_decorator(sensitive_post_parameters("client_secret", "token"), name="dispatch")
class IntrospectTokenView(ClientProtectedScopedResourceView):
    """Tells an authenticated caller whether an access token is active, and its scope, expiry and owners.

    The caller authenticates as a client (HTTP Basic or credentials in the body) or with a bearer token
    that has the ``introspection`` scope. The token to inspect is the ``token`` parameter, in the query
    string for GET and in the form body for POST. An unknown, expired or revoked token is reported as
    ``{"active": false}`` and nothing more, as RFC 7662 section 2.2 requires.
    """

    required_scopes = ["introspection"]

    @staticmethod
    def get_token_response(token_value=None):
        """The JSON response describing the access token whose value is ``token_value``."""
        if token_value is None:
            return _missing_token_response()
        token = access_token_with_value(token_value, only=_introspection_fields())
        # No request for is_usable: the caller is a resource server, not the token's holder.
        if token is None or not token.is_valid() or not is_honoured(token.application, token.user, None):
            return JsonResponse({"active": False})
        return JsonResponse(_active_token_claims(token))

    def get(self, request, *args, **kwargs):
        return self.get_token_response(request.GET.get("token"))

    def post(self, request, *args, **kwargs):
        return self.get_token_response(request.POST.get("token"))
