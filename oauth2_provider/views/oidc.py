"""OpenID Connect endpoints of the provider: discovery, JWKS, UserInfo and RP-initiated logout."""

from urllib.parse import urlsplit

from django.contrib.auth import logout
from django.http import JsonResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, View
from oauthlib.common import add_params_to_uri

from .._framing import deny_framing
from .._lookups import application_with_client_id
from .._request_values import sole_audience
from ..compat import login_not_required
from ..exceptions import (
    ClientIdMissmatch,
    InvalidIDTokenError,
    InvalidOIDCClientError,
    InvalidOIDCRedirectURIError,
    LogoutDenied,
    OIDCError,
)
from ..forms import ConfirmLogoutForm
from ..http import OAuth2ResponseRedirect
from ..models import (
    AbstractGrant,
    get_access_token_model,
    get_application_model,
    get_refresh_token_model,
)
from ..settings import oauth2_settings
from ..utils import jwk_from_pem
from ._responses import oauthlib_response
from .mixins import OAuthLibMixin, OIDCLogoutOnlyMixin, OIDCOnlyMixin


Application = get_application_model()


def _absolute_url(request, url_name):
    """The absolute URL of one of our views.

    With ``OIDC_ISS_ENDPOINT`` set, the URL is built on the issuer's scheme and host, which may differ from
    what the request shows (a provider behind a proxy); otherwise on the request's.
    """
    path = reverse(f"oauth2_provider:{url_name}")
    issuer = oauth2_settings.OIDC_ISS_ENDPOINT
    if not issuer:
        return request.build_absolute_uri(path)
    parts = urlsplit(issuer)
    return f"{parts.scheme}://{parts.netloc}{path}"


def _id_token_signing_algorithms():
    # HS256 (keyed with a client secret) is always possible; RS256 needs the provider's RSA key.
    if oauth2_settings.OIDC_RSA_PRIVATE_KEY:
        return [Application.RS256_ALGORITHM, Application.HS256_ALGORITHM]
    return [Application.HS256_ALGORITHM]


def _provider_metadata(request):
    """The OpenID Provider Metadata (OpenID Connect Discovery 1.0, section 3) as a dict."""
    validator = oauth2_settings.OAUTH2_VALIDATOR_CLASS()
    metadata = {
        "issuer": oauth2_settings.oidc_issuer(request),
        "authorization_endpoint": _absolute_url(request, "authorize"),
        "token_endpoint": _absolute_url(request, "token"),
        "userinfo_endpoint": oauth2_settings.OIDC_USERINFO_ENDPOINT or _absolute_url(request, "user-info"),
        "jwks_uri": _absolute_url(request, "jwks-info"),
        "scopes_supported": list(oauth2_settings.SCOPES_BACKEND_CLASS().get_available_scopes()),
        "response_types_supported": oauth2_settings.OIDC_RESPONSE_TYPES_SUPPORTED,
        "subject_types_supported": oauth2_settings.OIDC_SUBJECT_TYPES_SUPPORTED,
        "id_token_signing_alg_values_supported": _id_token_signing_algorithms(),
        "token_endpoint_auth_methods_supported": oauth2_settings.OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED,
        "code_challenge_methods_supported": [method for method, _ in AbstractGrant.CODE_CHALLENGE_METHODS],
        # Without duplicates, in the validator's order (a set would shuffle it from one process to the next).
        "claims_supported": list(dict.fromkeys(validator.get_discovery_claims(request))),
    }
    if oauth2_settings.OIDC_RP_INITIATED_LOGOUT_ENABLED:
        metadata["end_session_endpoint"] = _absolute_url(request, "rp-initiated-logout")
    return metadata


@method_decorator(login_not_required, name="dispatch")
class ConnectDiscoveryInfoView(OIDCOnlyMixin, View):
    """The provider's discovery document (``/.well-known/openid-configuration``), readable cross-origin."""

    def get(self, request, *args, **kwargs):
        response = JsonResponse(_provider_metadata(request))
        response["Access-Control-Allow-Origin"] = "*"
        return response


def _public_jwk(pem):
    """The public half of an RSA signing key, as published in the JWKS, with its thumbprint as ``kid``."""
    key = jwk_from_pem(pem)
    return {"alg": "RS256", "use": "sig", "kid": key.thumbprint(), **key.export_public(as_dict=True)}


def _published_rsa_keys():
    # Retired keys are published only beside an active one: without it there is no RS256 at all.
    active = oauth2_settings.OIDC_RSA_PRIVATE_KEY
    if not active:
        return []
    return [_public_jwk(pem) for pem in (active, *oauth2_settings.OIDC_RSA_PRIVATE_KEYS_INACTIVE)]


@method_decorator(login_not_required, name="dispatch")
class JwksInfoView(OIDCOnlyMixin, View):
    """The JSON Web Key Set that verifies our RS256 ID tokens.

    The inactive keys stay published so that tokens signed before a key rotation still verify. HS256
    tokens are keyed with client secrets, which are never published: without an RSA key the set is empty.
    """

    def get(self, request, *args, **kwargs):
        response = JsonResponse({"keys": _published_rsa_keys()})
        response["Access-Control-Allow-Origin"] = "*"
        max_age = oauth2_settings.OIDC_JWKS_MAX_AGE_SECONDS
        patch_cache_control(
            response, public=True, max_age=max_age, stale_while_revalidate=max_age, stale_if_error=max_age
        )
        return response


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
# RFC 6750 section 2.2 lets the bearer token travel in the form body: keep it out of error reports.
@method_decorator(sensitive_post_parameters("access_token"), name="dispatch")
class UserInfoView(OIDCOnlyMixin, OAuthLibMixin, View):
    """The UserInfo endpoint: claims about the user an access token was issued for, by GET or POST.

    The bearer token authenticates the request, so there is no session and no CSRF check.
    """

    def get(self, request, *args, **kwargs):
        return self._create_userinfo_response(request)

    def post(self, request, *args, **kwargs):
        return self._create_userinfo_response(request)

    def _create_userinfo_response(self, request):
        _uri, headers, body, status = self.create_userinfo_response(request)
        return oauthlib_response(headers, body, status)


def _load_id_token(token):
    """``(IDToken, claims)`` of an ``id_token_hint`` we issued; ``(None, claims)`` when it verifies but its
    row is gone; ``(None, None)`` when it does not verify.

    The validator decides: the signature is checked with the key of the application named in ``aud``,
    whose own ID token the row of ``jti`` must be. The expiry (``exp``, ``nbf``, the row's) is only checked
    when ``OIDC_RP_INITIATED_LOGOUT_ACCEPT_EXPIRED_TOKENS`` is off: a relying party commonly keeps the ID
    token of a session long after it expired, to log that session out. The claims are not validated beyond
    that; see ``_validate_claims``. The row is the proof that we issued the token and that it was not
    revoked since; its user is the token's subject, so callers compare users with the row, not with
    ``sub``. A row is gone once a logout at another relying party or a revocation deleted it: logout is
    idempotent (upstream #1287), so such a hint still names its relying party, through ``aud``, but no user.
    """
    validator = oauth2_settings.OAUTH2_VALIDATOR_CLASS()
    check_expiry = not oauth2_settings.OIDC_RP_INITIATED_LOGOUT_ACCEPT_EXPIRED_TOKENS
    claims = validator._verified_id_token_claims(token, check_expiry=check_expiry)
    if claims is None:
        return None, None
    id_token = validator._stored_id_token(claims)
    if id_token is not None and check_expiry and id_token.is_expired():
        return None, None
    return id_token, claims


def _validate_claims(request, claims):
    """Whether the claims of an ``id_token_hint`` are fit for RP-initiated logout: we must be the issuer."""
    issuer = oauth2_settings.OAUTH2_VALIDATOR_CLASS().get_oidc_issuer_endpoint(request)
    return claims.get("iss") == issuer


# The logout request parameters (OpenID Connect RP-Initiated Logout 1.0, section 2) that we act on.
_LOGOUT_REQUEST_PARAMETERS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state")


def _post_logout_redirect_problem(application, uri):
    """Why ``application`` may not send the user to ``uri`` after logout, or None if it may."""
    try:
        scheme = urlsplit(uri).scheme
    except ValueError:  # e.g. an unbalanced "[" in the host
        return "The redirect URI is malformed."
    if not scheme:
        return "A Scheme is required for the redirect URI."
    # Strict mode: plain http only for clients that can keep a secret (not for a browser or device app).
    public_client = application.client_type != Application.CLIENT_CONFIDENTIAL
    if scheme == "http" and public_client and oauth2_settings.OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS:
        return "http is only allowed with confidential clients."
    if scheme not in application.get_allowed_schemes():
        return f'Redirect to scheme "{scheme}" is not permitted.'
    if application.post_logout_redirect_uri_allowed(uri):
        return None
    return "This client does not have this redirect uri registered."


@method_decorator(login_not_required, name="dispatch")
# The logout confirmation: one click ends the session (and may delete tokens), so no site may frame it.
@method_decorator(deny_framing, name="dispatch")
class RPInitiatedLogoutView(OIDCLogoutOnlyMixin, FormView):
    """OpenID Connect RP-Initiated Logout 1.0: a relying party sends the user here to end the session.

    The user is logged out without a prompt only when the request carries an ``id_token_hint`` for the
    logged-in user and ``OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT`` is off; otherwise a confirmation form is
    shown. Invalid requests get the same template with an ``error`` in the context and status 400.
    """

    template_name = "oauth2_provider/logout_confirm.html"
    form_class = ConfirmLogoutForm
    # The client of an id_token_hint whose ID token is gone; set by validate_logout_request_user().
    _hint_client_id = None
    # The logout deletes the user's tokens only at applications of these client and grant types.
    token_deletion_client_types = [Application.CLIENT_PUBLIC, Application.CLIENT_CONFIDENTIAL]
    token_deletion_grant_types = [
        Application.GRANT_AUTHORIZATION_CODE,
        Application.GRANT_IMPLICIT,
        Application.GRANT_PASSWORD,
        Application.GRANT_CLIENT_CREDENTIALS,
        Application.GRANT_OPENID_HYBRID,
    ]

    def dispatch(self, request, *args, **kwargs):
        # The logout request's parameters, carried through the confirmation form; set by get().
        self.oidc_data = {}
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        fields = (
            "id_token_hint",
            "logout_hint",
            "client_id",
            "post_logout_redirect_uri",
            "state",
            "ui_locales",
        )
        return {field: self.oidc_data.get(field) for field in fields}

    def get(self, request, *args, **kwargs):
        params = {name: request.GET.get(name) for name in _LOGOUT_REQUEST_PARAMETERS}
        redirect_uri, state = params["post_logout_redirect_uri"], params["state"]
        try:
            application, token_user = self.validate_logout_request(
                id_token_hint=params["id_token_hint"],
                client_id=params["client_id"],
                post_logout_redirect_uri=redirect_uri,
            )
        except OIDCError as error:
            return self.error_response(error)

        if not self.must_prompt(token_user):
            return self.do_logout(application, redirect_uri, state, token_user)

        self.oidc_data = params
        context = self.get_context_data(**kwargs)
        if application:
            context["application"] = application
        return self.render_to_response(context)

    def form_valid(self, form):
        data = form.cleaned_data
        redirect_uri, state = data.get("post_logout_redirect_uri"), data.get("state")
        try:
            application, token_user = self.validate_logout_request(
                id_token_hint=data.get("id_token_hint"),
                client_id=data.get("client_id"),
                post_logout_redirect_uri=redirect_uri,
            )
            if self.must_prompt(token_user) and not data.get("allow"):
                raise LogoutDenied()
        except OIDCError as error:
            return self.error_response(error)
        return self.do_logout(application, redirect_uri, state, token_user)

    def validate_post_logout_redirect_uri(self, application, post_logout_redirect_uri):
        """Raise an OIDCError unless ``application`` may send the user to ``post_logout_redirect_uri``."""
        if not post_logout_redirect_uri:
            return
        if not application:
            # Without a client there is no list of registered URIs to check against.
            raise InvalidOIDCClientError()
        problem = _post_logout_redirect_problem(application, post_logout_redirect_uri)
        if problem:
            raise InvalidOIDCRedirectURIError(problem)

    def validate_logout_request_user(self, id_token_hint, client_id):
        """The IDToken of ``id_token_hint`` (None without a hint); OIDCError if the hint is not acceptable.

        The hint must be a token we issued; with a ``client_id`` as well, both must name the same
        application. A hint that verifies but whose row is gone (its user logged out at another relying
        party, or it was revoked) names no user: None, and the client it was issued to is kept for
        ``get_request_application``.
        """
        if not id_token_hint:
            return None
        id_token, claims = _load_id_token(id_token_hint)
        if not claims or not _validate_claims(self.request, claims):
            raise InvalidIDTokenError()
        audience = sole_audience(claims["aud"])
        if client_id and audience != client_id:
            raise ClientIdMissmatch()
        if id_token is None:
            self._hint_client_id = audience
        return id_token

    def get_request_application(self, id_token, client_id):
        """The application asking for the logout: named by ``client_id``, else the ID token's audience."""
        client_id = client_id or self._hint_client_id
        if client_id:
            application = application_with_client_id(client_id)
            if application is None:
                # Unknown, or a value no database can compare (a NUL character): the client's fault.
                raise InvalidOIDCClientError()
            return application
        if id_token:
            return id_token.application
        return None

    def validate_logout_request(self, id_token_hint, client_id, post_logout_redirect_uri):
        """Check a logout request and return ``(application, token_user)``, either of which may be None.

        ``application`` is the relying party asking for the logout, ``token_user`` the user of a valid
        ``id_token_hint``: the user whose tokens the logout deletes. Raises an OIDCError subclass when the
        hint, the client or the redirect URI is not acceptable.
        """
        id_token = self.validate_logout_request_user(id_token_hint, client_id)
        application = self.get_request_application(id_token, client_id)
        self.validate_post_logout_redirect_uri(application, post_logout_redirect_uri)
        token_user = id_token.user if id_token else None
        return application, token_user

    def must_prompt(self, token_user):
        """Whether the user has to confirm the logout.

        Nobody is asked without a session here (backported fix of upstream #1517): there is no session to
        end, so the logout goes straight on, deleting the tokens the ``id_token_hint``'s user holds at the
        requesting application if configured to (see ``do_logout``). With a session, logging out without
        a prompt is only safe when the relying party proved, with an ID token of the logged-in user, that
        it acts for that session; ``OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT`` forces the prompt for every
        session.
        """
        if not self.request.user.is_authenticated:
            return False
        if oauth2_settings.OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT or token_user is None:
            return True
        return token_user != self.request.user

    def do_logout(self, application=None, post_logout_redirect_uri=None, state=None, token_user=None):
        """End the session, delete the user's tokens if configured to, and redirect.

        The user is the ID token's when there is one (the session may have ended already), else the
        session's; the tokens go at every application for the session's own user, and only at the
        requesting application for anyone else. The redirect goes to ``post_logout_redirect_uri`` (with
        ``state``), else to the site root.
        """
        user = token_user or self.request.user
        if oauth2_settings.OIDC_RP_INITIATED_LOGOUT_DELETE_TOKENS and user.is_authenticated:
            # The user whose session ends here is logged out of every application (single logout). An ID
            # token by itself (no session, or another user's) speaks only for the application it was
            # issued to: a plain GET by whoever holds it must not end the user's tokens everywhere.
            if user == self.request.user:
                self._delete_tokens_of(user)
            elif application is not None:
                self._delete_tokens_of(user, application)
        logout(self.request)
        if not post_logout_redirect_uri:
            return OAuth2ResponseRedirect(
                self.request.build_absolute_uri("/"), oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES
            )
        if state:
            post_logout_redirect_uri = add_params_to_uri(post_logout_redirect_uri, [("state", state)])
        return OAuth2ResponseRedirect(post_logout_redirect_uri, application.get_allowed_schemes())

    def _delete_tokens_of(self, user, application=None):
        """Revoke the user's access, ID and refresh tokens at the applications of the deletion types.

        With ``application``, only at that one (if it is of the deletion types).
        """
        clients = Application.objects.filter(
            client_type__in=self.token_deletion_client_types,
            authorization_grant_type__in=self.token_deletion_grant_types,
        )
        if application is not None:
            clients = clients.filter(pk=application.pk)
        access_tokens = list(
            get_access_token_model()
            .objects.filter(user=user, application__in=clients)
            .select_related("id_token")
        )
        # Fetched first: deleting an access token detaches its refresh token.
        refresh_tokens = list(get_refresh_token_model().objects.filter(access_token__in=access_tokens))
        # Each token is revoked once, in an order where no revocation deletes a token still to come: the
        # access token (an ID token outlives it), then its ID token (whose deletion would cascade to the
        # access token), then the refresh token, which no longer has an access token to revoke.
        for access_token in access_tokens:
            access_token.revoke()
            if access_token.id_token:
                access_token.id_token.revoke()
        for refresh_token in refresh_tokens:
            refresh_token.revoke()

    def error_response(self, error):
        """The confirmation template showing ``error`` (an OIDCError), with the error's status code."""
        return self.render_to_response({"error": error}, status=error.status_code)
