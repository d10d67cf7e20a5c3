"""The demo's pages: a start page, a small client for the authorization-code flow, two protected APIs."""

import base64
import hashlib
import secrets
from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from oauth2_provider.views import ProtectedResourceView

from . import demo_accounts


SESSION_KEY = "demo_authorization_request"


def home(request):
    return render(request, "showcase/home.html", {"accounts": demo_accounts})


def pkce_challenge(verifier):
    """The S256 code challenge of ``verifier`` (RFC 7636 section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def start_authorization(request):
    """Plays the demo web app: sends the browser to the authorization endpoint with PKCE and a state.

    The verifier and the state stay in the session for the callback page, as a real client keeps them.
    """
    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(16)
    redirect_uri = request.build_absolute_uri(reverse("callback"))
    request.session[SESSION_KEY] = {"state": state, "code_verifier": verifier, "redirect_uri": redirect_uri}
    query = urlencode(
        {
            "response_type": "code",
            "client_id": demo_accounts.WEB_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": "openid read",
            "state": state,
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    return redirect(f"{reverse('oauth2_provider:authorize')}?{query}")


def callback(request):
    """The web app's redirect URI: shows the code (or the error) and how to exchange it for tokens."""
    pending = request.session.get(SESSION_KEY, {})
    context = {
        "code": request.GET.get("code"),
        "error": request.GET.get("error"),
        "error_description": request.GET.get("error_description"),
        # A state the session does not know means this callback does not answer our request.
        "state_matches": bool(pending) and request.GET.get("state") == pending.get("state"),
        "pending": pending,
        "token_url": request.build_absolute_uri(reverse("oauth2_provider:token")),
        "accounts": demo_accounts,
    }
    return render(request, "showcase/callback.html", context)


class HelloView(ProtectedResourceView):
    """Any valid access token gets through; the package answers 403 to a request without one."""

    def get(self, request, *args, **kwargs):
        # The token's user; None for a client-credentials token, which acts for the client alone.
        owner = request.resource_owner
        return JsonResponse(
            {"message": "Hello from a ProtectedResourceView", "user": owner.get_username() if owner else None}
        )


class ProfileView(APIView):
    """A Django REST framework view that needs a token with the ``read`` scope."""

    authentication_classes = [OAuth2Authentication]
    permission_classes = [TokenHasScope]
    required_scopes = ["read"]

    def get(self, request, *args, **kwargs):
        token = request.auth
        return Response(
            {
                "user": token.user.get_username() if token.user else None,
                "client_id": token.application.client_id,
                "scopes": sorted(token.scope.split()),
                "expires": token.expires,
            }
        )
