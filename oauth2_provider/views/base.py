import json
import logging
import re
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, View
from oauthlib import oauth2
from oauthlib.oauth2.rfc6749.errors import ConsentRequired

from .._framing import deny_framing
from .._lookups import application_with_client_id, issued_access_token, recording_issued_access_tokens
from ..compat import login_not_required
from ..exceptions import FatalClientError, OAuthToolkitError
from ..forms import AllowForm
from ..http import OAuth2ResponseRedirect
from ..models import AbstractApplication, get_access_token_model, get_application_model
from ..scopes import get_scopes_backend
from ..settings import oauth2_settings
from ..signals import app_authorized
from ._responses import oauthlib_response
from .mixins import OAuthLibMixin


log = logging.getLogger("oauth2_provider")

RFC3339 = "%Y-%m-%dT%H:%M:%SZ"

# Form fields copied as they are between the authorization request data and the consent form.
_FORM_PARAMETERS = (
    "redirect_uri",
    "nonce",
    "client_id",
    "state",
    "response_type",
    "code_challenge",
    "code_challenge_method",
    "claims",
)
# Credentials oauthlib expects even when empty, and those it must only see when the request had them.
_REQUIRED_CREDENTIALS = ("client_id", "redirect_uri", "response_type", "state")
_OPTIONAL_CREDENTIALS = ("code_challenge", "code_challenge_method", "nonce", "claims")
# Token request parameters that Django's error reports must not show (the client secret is upstream
# #1512; codes, refresh tokens and PKCE verifiers are credentials just as much).
_TOKEN_REQUEST_SECRETS = ("password", "client_secret", "code", "code_verifier", "refresh_token")


def _validated_application(credentials):
    """The application of an authorization request oauthlib has validated.

    Our validator left it on the oauthlib request, which oauthlib returns among the credentials; it is
    looked up again only when a validator subclass put nothing there.
    """
    application = getattr(credentials.get("request"), "client", None)
    if isinstance(application, AbstractApplication) and application.client_id == credentials["client_id"]:
        return application
    return get_application_model().objects.get(client_id=credentials["client_id"])


def _without_query_parameters(url, names):
    """``url`` with every parameter named in ``names`` removed from its query string."""
    parts = urlsplit(url)
    kept = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key not in names]
    return urlunsplit(parts._replace(query=urlencode(kept)))


# OpenID Connect's max_age: a non-negative number of seconds (bounded, so that it fits a timedelta).
_MAX_AGE = re.compile(r"[0-9]{1,10}")


def _authentication_too_old(request):
    """Whether the signed-in user authenticated longer ago than the request's ``max_age`` allows.

    The time of authentication is ``last_login``, as in the ID token's ``auth_time``; a user without
    one must log in. No ``max_age``, no limit. A value that is no number of seconds is a ValueError.
    """
    max_age = request.GET.get("max_age")
    if max_age is None:
        return False
    if not _MAX_AGE.fullmatch(max_age):
        raise ValueError(max_age)
    last_login = getattr(request.user, "last_login", None)
    return last_login is None or timezone.now() - last_login > timedelta(seconds=int(max_age))


def _prompt(request):
    """The values of OpenID Connect's ``prompt``: a space-delimited list (Core 1.0 section 3.1.2.1)."""
    return set(request.GET.get("prompt", "").split())


# The LoginRequiredMixin below sends anonymous users to the login page; Django's
# LoginRequiredMiddleware must not do it first (it knows nothing about prompt=none).
@method_decorator(login_not_required, name="dispatch")
# The consent page: one click grants the client access, so no other site may frame it.
@method_decorator(deny_framing, name="dispatch")
class BaseAuthorizationView(LoginRequiredMixin, OAuthLibMixin, View):
    """The authorization endpoint (RFC 6749 section 3.1), without a policy for granting access.

    Serves the authorization code, implicit and OpenID Connect hybrid flows. Errors go back to the
    client's redirect URI, or are rendered for the user when the client cannot be trusted.
    """

    def dispatch(self, request, *args, **kwargs):
        # The validated authorization request, filled in by get(); read by get_initial().
        self.oauth2_data = {}
        return super().dispatch(request, *args, **kwargs)

    def error_response(self, error, application, **kwargs):
        """Redirect the error to the client, or render it with its status for a ``FatalClientError``."""
        redirect, context = super().error_response(error, **kwargs)
        if redirect:
            return self.redirect(context["url"], application)
        return self.render_to_response(context, status=context["error"].status_code)

    def redirect(self, redirect_to, application):
        """Redirect to the client, with the schemes its application allows.

        Without an application (the client is unknown or invalid) the schemes of the
        ``ALLOWED_REDIRECT_URI_SCHEMES`` setting apply.
        """
        if application is None:
            allowed_schemes = oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES
        else:
            allowed_schemes = application.get_allowed_schemes()
        return OAuth2ResponseRedirect(redirect_to, allowed_schemes)


class AuthorizationView(BaseAuthorizationView, FormView):
    """The authorization endpoint, asking the logged-in user for consent with ``AllowForm``.

    GET validates the authorization request and shows the consent page, unless consent is not
    needed: the application has ``skip_authorization``, or ``approval_prompt`` (the query parameter,
    else ``REQUEST_APPROVAL_PROMPT``) is ``auto`` and a live token of the user already covers the
    requested scopes. A ``prompt=none`` request that would need the page is answered with
    ``consent_required`` instead. The request's parameters travel to the POST in the form's hidden
    fields; POST answers with the redirect to the client, carrying the grant or the refusal.
    """

    template_name = "oauth2_provider/authorize.html"
    form_class = AllowForm

    skip_authorization_completely = False

    def get_initial(self):
        data = self.oauth2_data
        initial = {name: data.get(name) for name in _FORM_PARAMETERS}
        initial["scope"] = " ".join(data.get("scope", data.get("scopes", [])))
        return initial

    def form_valid(self, form):
        data = form.cleaned_data
        application = application_with_client_id(data["client_id"])
        if application is None:
            # A tampered form; answered like an unknown client on GET, never redirected.
            return self.error_response(FatalClientError(error=oauth2.InvalidClientIdError()), None)

        credentials = {name: data.get(name) for name in _REQUIRED_CREDENTIALS}
        credentials.update({name: data[name] for name in _OPTIONAL_CREDENTIALS if data.get(name)})
        # oauthlib puts the credentials on its request: the validator finds the application loaded above
        # there instead of loading it again.
        credentials["client"] = application
        try:
            uri, headers, body, status = self.create_authorization_response(
                request=self.request,
                scopes=data.get("scope"),
                credentials=credentials,
                allow=data.get("allow"),
            )
        except OAuthToolkitError as error:
            return self.error_response(error, application)

        self.success_url = uri
        # Not the URI itself: it carries the authorization code (and tokens, for implicit and hybrid).
        log.debug("Authorization granted; redirecting to client %s", application.client_id)
        return self.redirect(uri, application)

    def get(self, request, *args, **kwargs):
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            # No application yet: the client itself may be what is wrong.
            return self.error_response(error, application=None)

        prompt = _prompt(request)
        if "login" in prompt:
            return self.handle_prompt_login()

        # oauthlib has validated the client_id: the application exists.
        application = _validated_application(credentials)
        try:
            authentication_too_old = _authentication_too_old(request)
        except ValueError:
            error = oauth2.InvalidRequestError(
                description="max_age must be a number of seconds.", state=credentials.get("state")
            )
            return self._redirected_error(error, application, credentials)
        if authentication_too_old:
            # OpenID Connect Core 3.1.2.1: the user must log in again, or, without any page, login_required.
            if "none" in prompt:
                return self._login_required(application, credentials)
            return self.handle_prompt_login()
        kwargs.update(self._consent_context(application, scopes, credentials))
        self.oauth2_data = kwargs
        kwargs["form"] = self.get_form()

        if isinstance(credentials.get("ui_locales"), list):
            # oauthlib parsed ui_locales into a list but wants the space-separated string back.
            credentials["ui_locales"] = " ".join(credentials["ui_locales"])

        # prompt=consent asks even where consent is not needed (OpenID Connect Core 3.1.2.1).
        if "consent" in prompt or not self._consent_not_needed(application, scopes):
            if "none" in prompt:
                return self._consent_required(application, credentials)
            return self.render_to_response(self.get_context_data(**kwargs))
        try:
            uri, headers, body, status = self.create_authorization_response(
                request=request, scopes=" ".join(scopes), credentials=credentials, allow=True
            )
        except OAuthToolkitError as error:
            return self.error_response(error, application)
        return self.redirect(uri, application)

    def _consent_context(self, application, scopes, credentials):
        """The consent page's context (also the data of the form's hidden fields)."""
        descriptions = get_scopes_backend().get_all_scopes()
        context = {
            "scopes_descriptions": [descriptions.get(scope, scope) for scope in scopes],
            "scopes": scopes,
            "application": application,
            **{name: credentials[name] for name in _REQUIRED_CREDENTIALS},
        }
        for name in ("code_challenge", "code_challenge_method", "nonce"):
            if name in credentials:
                context[name] = credentials[name]
        if "claims" in credentials:
            # A hidden field carries text: the claims request goes back to JSON.
            context["claims"] = json.dumps(credentials["claims"])
        return context

    def _consent_required(self, application, credentials):
        """Answer ``consent_required`` at the validated redirect URI, with the request's ``state``.

        ``prompt=none`` forbids every page, the consent page included (OpenID Connect Core 3.1.2.6).
        """
        return self._redirected_error(
            ConsentRequired(state=credentials.get("state")), application, credentials
        )

    def _redirected_error(self, error, application, credentials):
        """Answer the oauthlib ``error`` at the validated redirect URI of the request."""
        return self.error_response(
            OAuthToolkitError(error=error, redirect_uri=credentials["redirect_uri"]), application
        )

    def _login_required(self, application, credentials):
        """Answer ``login_required`` (with the request's ``state``) at its validated redirect URI."""
        redirect_uri = credentials["redirect_uri"]
        params = {"error": "login_required"}
        if credentials.get("state"):
            params["state"] = credentials["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return self.redirect(f"{redirect_uri}{separator}{urlencode(params)}", application)

    def _consent_not_needed(self, application, scopes):
        """Whether the request may be granted without showing the consent page."""
        if application.skip_authorization:
            # Trusted (typically in-house) applications never ask.
            return True
        approval_prompt = self.request.GET.get("approval_prompt", oauth2_settings.REQUEST_APPROVAL_PROMPT)
        if approval_prompt != "auto":
            return False
        live_tokens = get_access_token_model().objects.filter(
            user=self.request.user, application=application, expires__gt=timezone.now()
        )
        return any(token.allow_scopes(scopes) for token in live_tokens)

    def handle_prompt_login(self):
        """Send the user to log in again (OpenID Connect ``prompt=login``, or a ``max_age`` exceeded), then
        back without the prompt and ``max_age``: the login just made satisfies both (with ``max_age=0`` it
        would never be recent enough)."""
        login_url = resolve_url(self.get_login_url())
        next_url = _without_query_parameters(self._next_url_for(login_url), ("prompt", "max_age"))
        return redirect_to_login(next_url, login_url, self.get_redirect_field_name())

    def _next_url_for(self, login_url):
        """This request's URL as the login page's ``next``: relative when the login page is on this site."""
        current_url = self.request.build_absolute_uri()
        login_scheme, login_netloc = urlsplit(login_url)[:2]
        current_scheme, current_netloc = urlsplit(current_url)[:2]
        same_scheme = not login_scheme or login_scheme == current_scheme
        same_site = not login_netloc or login_netloc == current_netloc
        return self.request.get_full_path() if same_scheme and same_site else current_url

    def handle_no_permission(self):
        """Answer an anonymous user: the login page, or ``login_required`` for ``prompt=none``.

        With ``prompt=none`` the user must not see any page (OpenID Connect Core 3.1.2.6): the
        error goes back to the client's redirect URI, with the request's ``state``. The request is
        validated first, like any other (backported fix of upstream #1719), so that the error only goes
        to a redirect URI registered for the client. An invalid request gets the error oauthlib found
        instead, shown to the user if the client or its redirect URI is what is wrong; so is ``none``
        combined with another value, which oauthlib refuses with ``invalid_request`` for OpenID Connect
        requests.

        With ``prompt=login`` the login page is the answer, and the prompt is taken out of the URL it
        returns to: logging in has satisfied it, and the user must not be asked a second time.
        """
        prompt = _prompt(self.request)
        if "none" not in prompt:
            return self.handle_prompt_login() if "login" in prompt else super().handle_no_permission()
        try:
            _scopes, credentials = self.validate_authorization_request(self.request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)

        # oauthlib has checked the client and that the redirect URI is one it registered.
        return self._login_required(_validated_application(credentials), credentials)


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class TokenView(OAuthLibMixin, View):
    """The token endpoint (RFC 6749 section 3.2), for every grant type the server supports.

    Sends ``app_authorized`` for each access token it issues. CORS headers for an application's
    ``allowed_origins`` come from oauthlib, which sees the request's ``Origin``.
    """

    @method_decorator(sensitive_post_parameters(*_TOKEN_REQUEST_SECRETS))
    def post(self, request, *args, **kwargs):
        with recording_issued_access_tokens() as issued:
            url, headers, body, status = self.create_token_response(request)
        if status == 200:
            self._announce_issued_token(request, body, issued)
        return oauthlib_response(headers, body, status)

    def _announce_issued_token(self, request, body, issued):
        token = issued_access_token(issued, json.loads(body).get("access_token"))
        if token is not None:
            app_authorized.send(sender=self, request=request, token=token)


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class RevokeTokenView(OAuthLibMixin, View):
    """The token revocation endpoint (RFC 7009), for access and refresh tokens."""

    @method_decorator(sensitive_post_parameters("client_secret", "token"))
    def post(self, request, *args, **kwargs):
        url, headers, body, status = self.create_revocation_response(request)
        return oauthlib_response(headers, body, status)
