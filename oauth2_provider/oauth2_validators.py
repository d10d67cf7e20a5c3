"""The oauthlib ``RequestValidator`` of the provider.

oauthlib runs the protocol (RFC 6749, RFC 7636, RFC 7009, OpenID Connect) and asks its validator every
question that needs the database or the settings: is this client who it says, may it use this grant,
is this code still good, where do the issued tokens go. ``OAuth2Validator`` answers from our models.

Projects subclass it (``OAUTH2_VALIDATOR_CLASS``) to change one answer, so every hook keeps the name,
signature and side effects it has in django-oauth-toolkit 3.0.1, underscore-prefixed ones included.
"""

import inspect
import json
import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import router, transaction
from django.db.models import F
from django.db.models.signals import post_delete, pre_delete
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext
from django.views.decorators.debug import sensitive_variables
from jwcrypto import jwk, jws, jwt
from jwcrypto.common import JWException, base64url_encode
from oauthlib.oauth2.rfc6749 import errors, utils
from oauthlib.openid import RequestValidator

from . import _remote_introspection as introspection
from ._checksum import token_checksum
from ._compact_jws import is_compact_jws
from ._lookups import (
    access_token_with_value,
    application_with_client_id,
    record_issued_access_token,
    rows_read_after_writes,
    unique_row,
)
from ._refresh_tokens import (
    is_past_lifetime,
    refresh_token_accessor,
    refresh_token_grace_period,
    revoke_access_token,
)
from ._request_values import (
    audience_client_ids,
    decode_basic_credentials,
    http_request_for_authentication,
    is_lookup_safe,
    sole_audience,
)
from ._token_verdict import is_honoured
from .exceptions import FatalClientError
from .models import (
    AbstractAccessToken,
    AbstractApplication,
    _is_hashed_secret,
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)
from .scopes import get_scopes_backend
from .settings import oauth2_settings


log = logging.getLogger("oauth2_provider")

_CODE = AbstractApplication.GRANT_AUTHORIZATION_CODE
_IMPLICIT = AbstractApplication.GRANT_IMPLICIT
_PASSWORD = AbstractApplication.GRANT_PASSWORD
_CLIENT_CREDENTIALS = AbstractApplication.GRANT_CLIENT_CREDENTIALS
_HYBRID = AbstractApplication.GRANT_OPENID_HYBRID

# Token endpoint grant type -> the Application.authorization_grant_type values allowed to use it.
GRANT_TYPE_MAPPING = {
    "authorization_code": (_CODE, _HYBRID),
    "password": (_PASSWORD,),
    "client_credentials": (_CLIENT_CREDENTIALS,),
    "refresh_token": (_CODE, _PASSWORD, _CLIENT_CREDENTIALS, _HYBRID),
}

# Authorization endpoint response type -> the Application.authorization_grant_type it needs.
_RESPONSE_TYPE_GRANT = {
    "code": _CODE,
    "token": _IMPLICIT,
    "id_token": _IMPLICIT,
    "id_token token": _IMPLICIT,
    "code token": _HYBRID,
    "code id_token": _HYBRID,
    "code id_token token": _HYBRID,
}

# The swappable models, resolved once (subclasses and tests use these module attributes).
AccessToken = get_access_token_model()
Application = get_application_model()
Grant = get_grant_model()
IDToken = get_id_token_model()
RefreshToken = get_refresh_token_model()
UserModel = get_user_model()

# Standard claims (OpenID Connect Core 1.0, section 5.4), by the scope that releases them.
_STANDARD_CLAIMS = {
    "openid": ("sub",),
    "profile": (
        "name",
        "family_name",
        "given_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "updated_at",
    ),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
}


# The oauthlib request attribute holding ``(code, Grant or None)``: the grant loaded for this code.
_LOADED_GRANT = "_oauth2_provider_loaded_grant"


def _grant_with_code(code, request):
    """The Grant with this authorization code whatever its application, its user fetched with it, or None.

    oauthlib asks about one code up to six times in a token request (scopes, nonce, PKCE challenge and
    method, redirect URI, validity): the row is loaded once per oauthlib request. The DELETE of
    ``invalidate_authorization_code``, not this copy, decides whether the code is still there to redeem.
    """
    loaded = getattr(request, _LOADED_GRANT, None)
    if loaded is not None and loaded[0] == code:
        return loaded[1]
    grant = None
    if is_lookup_safe(code):
        grant = unique_row(Grant.objects.select_related("user").filter(code=code))
    if request is not None:
        setattr(request, _LOADED_GRANT, (code, grant))
    return grant


def _find_grant(code, application, request):
    """The Grant of ``application`` with this authorization code, or None."""
    grant = _grant_with_code(code, request)
    if grant is None or application is None or grant.application_id != application.pk:
        return None
    return grant


def _grant_value(code, field, request):
    """``field`` of the Grant with this code whatever its application (the OIDC hooks get no client)."""
    grant = _grant_with_code(code, request)
    return None if grant is None else getattr(grant, field)


# What a hostile ID token can make the key lookup, the JWT parsing or the row lookup raise: a malformed JWS
# or JWT, a payload that is not JSON or not an object, claims of the wrong type, a ``jti`` that is not a
# UUID (ValidationError), an audience naming an application that signs no tokens (ImproperlyConfigured).
_UNUSABLE_ID_TOKEN_ERRORS = (
    JWException,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    ValidationError,
    ImproperlyConfigured,
)


def _is_uuid(value):
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _epoch_seconds(moment):
    return int(moment.timestamp())


# The request attribute holding the client secret that authenticated the client during this request.
_AUTHENTICATED_SECRET = "_oauth2_provider_authenticated_client_secret"


@sensitive_variables("client_secret")
def _remember_authenticated_secret(request, client_secret):
    """Keep the verified cleartext secret for this request only: it is the HS256 key of its ID tokens."""
    setattr(request, _AUTHENTICATED_SECRET, client_secret)


# RFC 7518 section 3.2: an HS256 key has at least as many bits as the hash output. Shorter ones, the
# empty secret first of all, would let anyone forge ID tokens; jwcrypto refuses them with an exception.
_HS256_MIN_KEY_BYTES = 32


@sensitive_variables("stored_secret", "secret")
def _hs256_key(request):
    """The HMAC key of an HS256 ID token for ``request.client``, or None when there is no usable one.

    OpenID Connect Core 1.0 section 10.1 signs with the UTF-8 octets of the client secret, the value the
    relying party holds. A secret stored hashed (the default) is not that value (upstream #1737): the key
    is then the cleartext the client authenticated with during this request, and there is none when it
    did not authenticate with its secret.
    """
    stored_secret = request.client.client_secret
    hashed = _is_hashed_secret(stored_secret)
    secret = getattr(request, _AUTHENTICATED_SECRET, None) if hashed else stored_secret
    if not secret or len(secret.encode("utf-8")) < _HS256_MIN_KEY_BYTES:
        return None
    # Unhashed, the application's own key: a project may have overridden jwk_key.
    return jwk.JWK(kty="oct", k=base64url_encode(secret)) if hashed else request.client.jwk_key


def _revocation_fields(refresh_token_accessor):
    """The fields of an access token to load for revoking it, or ``()`` for all of them.

    As shipped, revoking deletes the row: the deletion needs its primary key, the client check its
    application's id, and the choice of what to revoke whether its refresh token is live. An access token
    model whose ``revoke()`` does more, or a project listening to its deletion signals, gets whole rows.
    """
    if (
        AccessToken.revoke is not AbstractAccessToken.revoke
        or pre_delete.has_listeners(AccessToken)
        or post_delete.has_listeners(AccessToken)
    ):
        return ()
    if refresh_token_accessor is None:
        return ("application",)
    return ("application", f"{refresh_token_accessor}__revoked")


class OAuth2Validator(RequestValidator):
    # Claim name -> the scope that releases it. A claim not listed is never released; a subclass adds
    # its own claims here, or sets None to release every claim whatever the granted scopes.
    oidc_claim_scope = {claim: scope for scope, claims in _STANDARD_CLAIMS.items() for claim in claims}

    # Client authentication (RFC 6749 sections 2.3 and 3.2.1)

    @sensitive_variables("header", "credentials")
    def _extract_basic_auth(self, request):
        """What follows ``Basic `` in the Authorization header, or None without Basic credentials."""
        header = request.headers.get("HTTP_AUTHORIZATION")
        if not header:
            return None
        scheme, _, credentials = header.partition(" ")
        if scheme != "Basic" or not credentials:
            return None
        return credentials

    # Stored unhashed (hash_client_secret=False), the stored secret is as clear as the provided one.
    @sensitive_variables("provided_secret", "stored_secret")
    def _check_secret(self, provided_secret, stored_secret):
        """Whether ``provided_secret`` is the client's secret, stored hashed or, if not, as plain text."""
        if not isinstance(provided_secret, str) or not provided_secret:
            # No secret is no credential, even for a client registered with an empty one: its client id
            # alone, which is no secret, would otherwise authenticate it (RFC 6749 section 2.3.1).
            return False
        if not _is_hashed_secret(stored_secret):
            # An application saved with hash_client_secret=False.
            return constant_time_compare(provided_secret, stored_secret)
        return check_password(provided_secret, stored_secret)

    @sensitive_variables("encoded", "credentials", "client_secret")
    def _authenticate_basic_auth(self, request):
        """Authenticate the client from HTTP Basic credentials, the method RFC 6749 prefers."""
        encoded = self._extract_basic_auth(request)
        if not encoded:
            return False
        encoding = getattr(request, "encoding", None) or settings.DEFAULT_CHARSET or "utf-8"
        credentials = decode_basic_credentials(encoded, encoding)
        if credentials is None:
            return False
        client_id, client_secret = credentials
        if self._load_application(client_id, request) is None:
            return False
        named = getattr(request, "client_id", None)
        if named and named != client_id:
            # One client per request: oauthlib 3.2.2 would go on for the client the parameter names (the
            # audience of the ID token it issues), oauthlib 4 answers server_error. It is the client's error.
            log.debug("Basic auth rejected: client %r names client id %r in the request", client_id, named)
            return False
        return self._accept_secret(request, client_id, client_secret, "Basic")

    @sensitive_variables("client_secret")
    def _authenticate_request_body(self, request):
        """Authenticate the client from ``client_id`` and ``client_secret`` sent in the body.

        RFC 6749 section 2.3.1 allows this for clients unable to send Basic credentials; a missing
        secret counts as an empty one.
        """
        try:
            client_id = request.client_id
        except AttributeError:
            return False
        client_secret = getattr(request, "client_secret", "") or ""
        if self._load_application(client_id, request) is None:
            return False
        return self._accept_secret(request, client_id, client_secret, "Body")

    @sensitive_variables("client_secret")
    def _accept_secret(self, request, client_id, client_secret, method):
        """Whether ``client_secret`` is the secret of ``request.client``, which ``client_id`` names.

        The secret is remembered on the request if so.
        """
        if request.client.client_id != client_id:
            # request.client was loaded earlier, for another client id (with Basic credentials refused, the
            # body's are tried next on the same request).
            log.debug("%s auth rejected: client id %r is not the request's client", method, client_id)
            return False
        if not self._check_secret(client_secret, request.client.client_secret):
            log.debug("%s auth rejected: wrong secret for client %r", method, client_id)
            return False
        _remember_authenticated_secret(request, client_secret)
        return True

    def _load_application(self, client_id, request):
        """The usable application with ``client_id``, also put on ``request.client``; None if there is none.

        An application already on ``request.client`` is reused only when it has this client id and is
        still usable; otherwise it is dropped and the application is looked up. So a client loaded for one
        client id never answers for another, and a refused one never stays on the request (upstream
        PR #1252, 3.2.0): on None, ``request.client`` is None.
        """
        if not hasattr(request, "client"):
            # A programming error, not bad input: oauthlib requests always have the attribute.
            raise AssertionError('"request" instance has no "client" attribute')
        cached = request.client
        # oauthlib copies every request parameter onto its request: a ``client`` parameter in the body or
        # the query arrives here as a string (upstream #1252). Only an application counts as loaded.
        if isinstance(cached, AbstractApplication) and cached.client_id == client_id:
            application = cached
        else:
            application = application_with_client_id(client_id)
        request.client = None
        if application is None:
            log.debug("Client rejected: no application with client id %r", client_id)
            return None
        if not application.is_usable(request):
            log.debug("Client rejected: application %r is disabled", client_id)
            return None
        request.client = application
        return application

    def client_authentication_required(self, request, *args, **kwargs):
        """Whether the token request must authenticate the client.

        Always when it sends credentials (Basic, or a client_id with a client_secret); otherwise when
        the client is confidential. oauthlib's answer (yes) when the client is unknown.
        """
        if self._extract_basic_auth(request):
            return True
        if getattr(request, "client_id", None) and getattr(request, "client_secret", None):
            return True
        application = self._load_application(request.client_id, request)
        if application is None:
            # Unknown or disabled client: oauthlib's default, which asks for authentication (and so fails).
            return super().client_authentication_required(request, *args, **kwargs)
        return application.client_type == AbstractApplication.CLIENT_CONFIDENTIAL

    def authenticate_client(self, request, *args, **kwargs):
        """Authenticate the client with Basic credentials, else with credentials in the body."""
        return self._authenticate_basic_auth(request) or self._authenticate_request_body(request)

    def authenticate_client_id(self, client_id, request, *args, **kwargs):
        """Accept a client that did not authenticate when it exists and is public."""
        application = self._load_application(client_id, request)
        return application is not None and application.client_type != AbstractApplication.CLIENT_CONFIDENTIAL

    def validate_client_id(self, client_id, request, *args, **kwargs):
        """Whether a usable application has this client id (it becomes ``request.client``)."""
        return self._load_application(client_id, request) is not None

    def is_origin_allowed(self, client_id, origin, request, *args, **kwargs):
        """Whether ``origin`` may call the token endpoint cross-origin (CORS), per the application."""
        return request.client.origin_allowed(origin)

    # Authorization endpoint: redirect URIs, response types, scopes

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs):
        if not request.client.redirect_uris:
            # An application without any (a client credentials one, say) in a flow that needs one. Raised
            # here, not left to oauthlib, so the error carries no ``state``: there is nowhere to send it
            # back to (upstream #958).
            raise errors.MissingRedirectURIError()
        return request.client.default_redirect_uri

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        return request.client.redirect_uri_allowed(redirect_uri)

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        """Whether the client's grant type allows ``response_type`` (unknown response types are refused)."""
        grant_type = _RESPONSE_TYPE_GRANT.get(response_type)
        if grant_type is None or not client.allows_grant_type(grant_type):
            return False
        if response_type != "code" and getattr(request, "response_mode", None) == "query":
            # Tokens in a query string end up in the client's logs, proxies and Referer headers (OAuth 2.0
            # Multiple Response Type Encoding Practices, sections 2.1 and 5: the query encoding MUST NOT be
            # used for response types that return tokens). Refused before any consent or token.
            raise errors.InvalidRequestError(
                description="response_mode=query cannot be used with a response type that returns tokens.",
                request=request,
            )
        return True

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        """Whether the client may use ``grant_type`` at the token endpoint (see ``GRANT_TYPE_MAPPING``).

        A grant type the mapping does not know (oauthlib may dispatch more, such as the device code
        grant) is refused: the client is told it is not authorized for it.
        """
        allowed = GRANT_TYPE_MAPPING.get(grant_type)
        if (
            grant_type == "client_credentials"
            and request.client.client_type != AbstractApplication.CLIENT_CONFIDENTIAL
        ):
            # A public client's secret is no secret: it must not get tokens on its own (RFC 6749 section 4.4).
            return False
        return bool(allowed) and request.client.allows_grant_type(*allowed)

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        """Whether every requested scope is available to the client in the scopes backend."""
        available = get_scopes_backend().get_available_scopes(application=client, request=request)
        return set(scopes).issubset(available)

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        return get_scopes_backend().get_default_scopes(application=request.client, request=request)

    # Authorization codes (RFC 6749 section 4.1) and PKCE (RFC 7636)

    def is_pkce_required(self, client_id, request):
        """``PKCE_REQUIRED``: a bool, or a callable deciding per client id.

        The answer is made a bool: oauthlib enforces PKCE only when it gets ``True`` itself, so a
        truthy value such as ``1`` or ``"yes"`` would otherwise switch PKCE off.
        """
        required = oauth2_settings.PKCE_REQUIRED
        return bool(required(client_id) if callable(required) else required)

    def get_code_challenge(self, code, request):
        grant = _find_grant(code, request.client, request)
        return (grant.code_challenge or None) if grant else None

    def get_code_challenge_method(self, code, request):
        grant = _find_grant(code, request.client, request)
        return (grant.code_challenge_method or None) if grant else None

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        self._create_authorization_code(request, code)

    def _create_authorization_code(self, request, code, expires=None):
        """Store the authorization code oauthlib issued (``code["code"]``) as a Grant."""
        if not expires:
            expires = timezone.now() + timedelta(seconds=oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS)
        code_challenge = request.code_challenge or ""
        nonce = request.nonce or ""
        self._check_fits_grant(request, code_challenge=code_challenge, nonce=nonce)
        return Grant.objects.create(
            code=code["code"],
            application=request.client,
            user=request.user,
            scope=" ".join(request.scopes),
            redirect_uri=request.redirect_uri,
            expires=expires,
            code_challenge=code_challenge,
            code_challenge_method=request.code_challenge_method or "",
            nonce=nonce,
            claims=json.dumps(request.claims or {}),
        )

    def _check_fits_grant(self, request, **values):
        # Client-chosen values longer than their column would make the database fail the INSERT: they are
        # a malformed request instead (PKCE challenges are at most 128 characters anyway).
        for name, value in values.items():
            if len(value) > Grant._meta.get_field(name).max_length:
                description = f"The {name} parameter is too long."
                raise errors.InvalidRequestError(description=description, request=request)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        """Whether ``code`` is an unexpired code of ``client``; loads its user, scopes, nonce and claims."""
        grant = _find_grant(code, client, request)
        if grant is None or grant.is_expired():
            return False
        if not grant.code_challenge and getattr(request, "code_verifier", None) is not None:
            # RFC 9700 section 2.1.1: a code_verifier for a code issued without code_challenge is refused,
            # or an attacker who injects a code obtained without PKCE defeats the client's PKCE (downgrade).
            log.debug("Code rejected: a code_verifier for a code issued without code_challenge")
            return False
        if not is_honoured(client, grant.user, request):
            log.debug("Code rejected: its user can no longer sign in")
            return False
        request.user = grant.user
        request.scopes = grant.scope.split(" ")
        # The OpenID Connect parameters of the authorization request travel with the code.
        if grant.claims:
            request.claims = json.loads(grant.claims)
        if grant.nonce:
            request.nonce = grant.nonce
        return True

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, *args, **kwargs):
        """Whether ``redirect_uri`` is the one the code was issued for (RFC 6749 section 4.1.3)."""
        # DOT 3.0.1's signature: oauthlib passes its request as the first of ``args``.
        request = args[0] if args else kwargs.get("request")
        grant = _find_grant(code, client, request)
        return grant is not None and grant.redirect_uri_allowed(redirect_uri)

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        """Delete the Grant of a redeemed code; InvalidGrantError when there is none.

        One DELETE statement decides: of two requests redeeming the same code at once, only the one
        whose DELETE removed the row succeeds.
        """
        deleted = 0
        if is_lookup_safe(code):
            deleted, _ = Grant.objects.filter(code=code, application=request.client).delete()
        if not deleted:
            raise errors.InvalidGrantError(request=request)

    def get_authorization_code_scopes(self, client_id, code, redirect_uri, request):
        scope = _grant_value(code, "scope", request)
        return utils.scope_to_list(scope) if scope else []

    def get_authorization_code_nonce(self, client_id, code, redirect_uri, request):
        """The nonce the authorization request sent, to be repeated in the ID token; None without one."""
        return _grant_value(code, "nonce", request) or None

    # Resource owner password credentials (RFC 6749 section 4.3)

    @sensitive_variables("password")
    def validate_user(self, username, password, client, request, *args, **kwargs):
        """Whether Django's backends authenticate an active user (stored on ``request.user``)."""
        if not (is_lookup_safe(username) and is_lookup_safe(password)):
            return False
        user = authenticate(http_request_for_authentication(request), username=username, password=password)
        if user is None or not user.is_active:
            return False
        request.user = user
        return True

    # Issuing bearer tokens (RFC 6749 sections 5 and 6)

    def rotate_refresh_token(self, request):
        """Whether a refresh issues a new refresh token (``ROTATE_REFRESH_TOKEN``)."""
        return oauth2_settings.ROTATE_REFRESH_TOKEN

    def save_bearer_token(self, token, request, *args, **kwargs):
        """Store the access (and refresh) token oauthlib issued, in one transaction.

        The transaction lives here and the work in ``_save_bearer_token``, which subclasses override.
        """
        token_database = router.db_for_write(AccessToken)
        # Inside the token endpoint's own transaction a savepoint would only add two round trips: an error
        # here fails the whole request anyway (as in Django's Model.save() and deletion collector).
        with transaction.atomic(using=token_database, savepoint=False):
            return self._save_bearer_token(token, request, *args, **kwargs)

    def _save_bearer_token(self, token, request, *args, **kwargs):
        """Store the issued tokens; on a refresh, rotate or reuse the refresh token it consumed.

        ``token`` is oauthlib's response dict. On a refresh within ``REFRESH_TOKEN_GRACE_PERIOD_SECONDS``
        of an earlier refresh with the same token, the tokens issued then are answered again, by
        rewriting ``token``.
        """
        if "scope" not in token:
            raise FatalClientError("Failed to renew access token: missing scope")
        # oauthlib's token handler sets expires_in from the server's settings; a custom one may not.
        lifetime = token.get("expires_in", oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS)
        expires = timezone.now() + timedelta(seconds=lifetime)
        if request.grant_type == "client_credentials":
            # The client acts on its own behalf: there is no resource owner.
            request.user = None

        refresh_token_code = token.get("refresh_token")
        if not refresh_token_code:
            self._create_access_token(expires, request, token)
            return
        # Set by validate_refresh_token on a refresh; absent on the first issue.
        consumed = getattr(request, "refresh_token_instance", None)
        if not isinstance(consumed, RefreshToken):
            consumed = None
        if not self.rotate_refresh_token(request) and consumed is not None and consumed.access_token:
            self._renew_access_token(consumed.access_token, expires, request, token)
        else:
            self._save_rotated_tokens(refresh_token_code, consumed, expires, request, token)

    def _renew_access_token(self, access_token, expires, request, token):
        """Without rotation the refresh token stays and its access token row takes the new values."""
        locked = AccessToken.objects.select_for_update().filter(pk=access_token.pk).first()
        if locked is None:
            # Revoked since validate_refresh_token loaded it.
            raise errors.InvalidGrantError(description="The refresh token was revoked.", request=request)
        renewed = {
            "token": token["access_token"],
            "scope": token["scope"],
            "expires": expires,
            "user": request.user,
            "application": request.client,
        }
        for field, value in renewed.items():
            setattr(locked, field, value)
        # save(), not update(): the token checksum is recomputed on save.
        locked.save()

    def _save_rotated_tokens(self, refresh_token_code, consumed, expires, request, token):
        already_issued = None
        if consumed is not None and not getattr(consumed, "_locked_for_update", False):
            # Lock the consumed refresh token, unless validate_refresh_token did in this transaction:
            # concurrent refreshes with it queue up here.
            consumed = RefreshToken.objects.select_for_update().filter(pk=consumed.pk).first()
            if consumed is None:
                raise errors.InvalidGrantError(description="The refresh token was deleted.", request=request)
        if consumed is not None:
            already_issued = AccessToken.objects.filter(source_refresh_token=consumed).first()
            if consumed.revoked is not None and already_issued is None:
                # Revoked since validate_refresh_token, and not by rotation: by the revocation endpoint
                # or the family's reuse protection. Honouring it now would bring it back (upstream #1816).
                raise errors.InvalidGrantError(description="The refresh token was revoked.", request=request)
            consumed.revoke()
            request.refresh_token_instance = None
        if already_issued is None:
            access_token = self._create_access_token(expires, request, token, source_refresh_token=consumed)
            self._create_refresh_token(request, refresh_token_code, access_token, consumed)
            return
        # A repeated refresh within the grace period: answer with what the first one got.
        issued_refresh_token = RefreshToken.objects.filter(access_token=already_issued).first()
        if issued_refresh_token is None:
            raise errors.InvalidGrantError(description="The refresh token was already used.", request=request)
        token["access_token"] = already_issued.token
        token["refresh_token"] = issued_refresh_token.token
        token["scope"] = already_issued.scope

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        # The ID token issued alongside (OpenID Connect) is linked to the access token.
        signed_id_token = token.get("id_token")
        access_token = AccessToken.objects.create(
            token=token["access_token"],
            application=request.client,
            user=request.user,
            scope=token["scope"],
            expires=expires,
            source_refresh_token=source_refresh_token,
            id_token=self._issued_id_token(signed_id_token, request) if signed_id_token else None,
        )
        record_issued_access_token(access_token)
        return access_token

    def _issued_id_token(self, signed_id_token, request):
        """The IDToken row of the ID token issued with these tokens.

        ``finalize_id_token`` left it on the request. Verifying the JWT again is the fallback: it cannot
        work for an HS256 token signed with a cleartext secret that the server only keeps hashed.
        """
        issued = getattr(request, "id_token", None)
        if isinstance(issued, IDToken) and issued.pk is not None:
            return issued
        return self._load_id_token(signed_id_token)

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        # 3.0.1's schema keeps refresh tokens unique only together with ``revoked``, which lets any number
        # of live rows share a value (upstream #1816). A generator that repeats a live value is refused here,
        # with one index probe, rather than leaving two rows that one presented token would mean. The value
        # of a revoked row may come back (the one a rotation just revoked, with a generator that keeps it):
        # the live row is the one a lookup takes, as in DOT 3.0.1.
        if RefreshToken.objects.filter(token=refresh_token_code, revoked__isnull=True).exists():
            log.error(
                "The refresh token generator returned the value of a live refresh token; none was issued."
            )
            raise errors.InvalidGrantError(description="No refresh token could be issued.", request=request)
        # A rotated refresh token stays in the family of the one it replaces; a first one starts a family.
        family = previous_refresh_token.token_family if previous_refresh_token else uuid.uuid4()
        return RefreshToken.objects.create(
            token=refresh_token_code,
            token_family=family,
            access_token=access_token,
            application=request.client,
            user=request.user,
        )

    # Refresh tokens (RFC 6749 section 6)

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        """Whether ``refresh_token`` may be used by ``client``; loads its user onto the request.

        A revoked refresh token is refused unless it is still within its grace period (see
        ``_within_grace_period``), and with ``REFRESH_TOKEN_REUSE_PROTECTION`` its replay revokes its whole
        family: the server cannot tell the legitimate client from the thief, so both lose their tokens.
        A live one is refused once its access token is gone or ``REFRESH_TOKEN_EXPIRE_SECONDS`` have
        passed since that access token expired (upstream #746), whether or not ``cleartokens`` has deleted
        the row yet.
        """
        if not is_lookup_safe(refresh_token):
            return False
        # Rows may share a token value (unique together with ``revoked``): the live one counts first, and
        # two live ones (stored before issuing refused duplicates) name no single token: refused (#1816).
        rows = rows_read_after_writes(
            RefreshToken.objects.filter(token=refresh_token)
            .select_related("access_token", "user")
            .order_by(F("revoked").desc(nulls_first=True)),
            2,
        )
        if not rows:
            return False
        if len(rows) == 2 and rows[1].revoked is None:
            log.error("Two live refresh tokens share the value presented; both are refused.")
            return False
        found = rows[0]
        if found.revoked is None:
            if is_past_lifetime(found) or not self._lock_live_refresh_token(found):
                return False
        if found.revoked is not None and not self._within_grace_period(found):
            if oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION and found.token_family:
                RefreshToken._revoke_family(found)
            return False
        if not is_honoured(client, found.user, request):
            log.debug("Refresh token rejected: its user can no longer sign in")
            return False
        request.user = found.user
        request.refresh_token = found.token
        # Kept for get_original_scopes and save_bearer_token, which would otherwise query it again.
        request.refresh_token_instance = found
        return client is not None and found.application_id == client.pk

    def _lock_live_refresh_token(self, refresh_token):
        """Lock a refresh token read as live until this request's transaction ends, and read its
        ``revoked`` again into ``refresh_token``; False if it was deleted meanwhile.

        Two requests with one refresh token at once (a thief racing the client) both read it as live.
        Locked here, the second waits until the first has rotated it and committed, then finds it revoked
        and is judged as any replay: refused without a grace period, and with
        ``REFRESH_TOKEN_REUSE_PROTECTION`` its family revoked (RFC 9700 section 4.14.2). Outside a
        transaction (a validator called on its own) there is nothing to hold a lock, and it only reads.
        """
        database = router.db_for_write(RefreshToken)
        rows = RefreshToken.objects.using(database).filter(pk=refresh_token.pk)
        locking = transaction.get_connection(database).in_atomic_block
        if locking:
            rows = rows.select_for_update()
        current = list(rows.values_list("revoked", flat=True))
        if not current:
            return False
        refresh_token.revoked = current[0]
        # Saving the rotated tokens need not lock and read it again (see _save_rotated_tokens).
        refresh_token._locked_for_update = locking
        return True

    def _within_grace_period(self, revoked_refresh_token):
        """Whether a revoked refresh token may still be replayed (``REFRESH_TOKEN_GRACE_PERIOD_SECONDS``).

        The grace period is for a client that refreshed but never received the answer: it retries with
        the refresh token that the lost answer replaced, and gets that answer again. So it only covers a
        token revoked by rotation whose replacement is still alive, which is what the access token issued
        from it proves (revoking the replacement deletes that access token). It does not cover a token
        revoked on purpose, never used to refresh (upstream #1816, RFC 7009 section 2.1), nor one whose
        replacement was refreshed in turn, further back in the family (upstream #1617).
        """
        grace_start = timezone.now() - refresh_token_grace_period()
        if revoked_refresh_token.revoked <= grace_start:
            return False
        return AccessToken.objects.filter(source_refresh_token_id=revoked_refresh_token.pk).exists()

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        """The scope granted with the refresh token, from the access token issued with or from it."""
        refresh_token_instance = request.refresh_token_instance
        if refresh_token_instance.access_token_id:
            return refresh_token_instance.access_token.scope
        # Revoked within the grace period: the access token it was exchanged for holds the scope.
        scope = (
            AccessToken.objects.filter(source_refresh_token_id=refresh_token_instance.pk)
            .values_list("scope", flat=True)
            .first()
        )
        return [] if scope is None else scope

    # Revocation (RFC 7009)

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs):
        """Revoke the access or refresh token ``token`` if it was issued to the client of ``request``.

        RFC 7009 section 2.1: a client revokes its own tokens only (upstream #727). A token of another
        client, like an unknown one, is left alone and the endpoint answers the same. The hint only says
        which kind of token to look for first. Revoking an access token revokes the refresh token issued
        with it, as section 2.1 allows.
        """
        if not isinstance(request.client, AbstractApplication):
            return
        finders = [self._access_tokens_with_value, self._refresh_tokens_with_value]
        if token_type_hint == "refresh_token":
            finders.reverse()
        for find in finders:
            matches = find(token, request.client)
            if matches:
                for match in matches:
                    if isinstance(match, AccessToken):
                        # Its refresh token goes too, or it could get a new access token at once.
                        revoke_access_token(match, RefreshToken)
                    else:
                        match.revoke()
                return

    def _access_tokens_with_value(self, token, application):
        # Revoking needs neither the application nor the user row, only the application's id, but it needs
        # the refresh token issued beside the access token: fetched in the same query where it can be.
        accessor = refresh_token_accessor(RefreshToken)
        related = () if accessor is None else (accessor,)
        access_token = access_token_with_value(token, related=related, only=_revocation_fields(accessor))
        if access_token is None or access_token.application_id != application.pk:
            return []
        return [access_token]

    def _refresh_tokens_with_value(self, token, application):
        if not is_lookup_safe(token):
            return []
        return list(RefreshToken.objects.filter(token=token, application=application))

    # Protected resources: bearer tokens (RFC 6750), local or introspected (RFC 7662)

    def validate_bearer_token(self, token, scopes, request):
        """Whether ``token`` grants ``scopes``; sets request.client, user, scopes and access_token.

        A token unknown here, or not valid here, is sent to the remote introspection endpoint when one is
        configured. On failure ``request.oauth2_error`` says why (RFC 6750 section 3.1), except when no
        token was sent at all.
        """
        if not token:
            return False
        access_token = self._load_access_token(token)
        if access_token is None or not access_token.is_valid(scopes):
            url = oauth2_settings.RESOURCE_SERVER_INTROSPECTION_URL
            bearer = oauth2_settings.RESOURCE_SERVER_AUTH_TOKEN
            credentials = oauth2_settings.RESOURCE_SERVER_INTROSPECTION_CREDENTIALS
            if url and (bearer or credentials):
                # The remote server's answer replaces the local row, even when it is "not active".
                access_token = self._get_token_from_authentication_server(token, url, bearer, credentials)
        if access_token is None or not access_token.is_valid(scopes):
            self._set_oauth2_error_on_request(request, access_token, scopes)
            return False
        if not is_honoured(access_token.application, access_token.user, request):
            # The application was disabled after issuing the token (upstream #1260), or its user can no
            # longer sign in: its tokens stop working with it, as its requests for new ones already do.
            request.oauth2_error = {
                "error": "invalid_token",
                "error_description": gettext("The access token is invalid."),
            }
            return False
        # Django REST framework reads the token from request.access_token.
        request.access_token = access_token
        request.scopes = list(access_token.scopes)
        request.user = access_token.user
        request.client = access_token.application
        return True

    def _load_access_token(self, token):
        """The AccessToken with this value, application and user included: one query on the checksum."""
        return access_token_with_value(token)

    def _set_oauth2_error_on_request(self, request, access_token, scopes):
        """Put on ``request.oauth2_error`` the RFC 6750 error explaining why ``access_token`` was refused."""
        if access_token is None:
            error = {"error": "invalid_token", "error_description": gettext("The access token is invalid.")}
        elif access_token.is_expired():
            error = {"error": "invalid_token", "error_description": gettext("The access token has expired.")}
        elif not access_token.allow_scopes(scopes):
            error = {
                "error": "insufficient_scope",
                "error_description": gettext("The access token is valid but does not have enough scope."),
            }
        else:
            # A custom AccessToken.is_valid refused it.
            log.warning("OAuth2 access token is invalid for an unknown reason.")
            error = {"error": "invalid_token"}
        request.oauth2_error = error
        return request

    def _get_token_from_authentication_server(
        self, token, introspection_url, introspection_token, introspection_credentials
    ):
        """Ask the remote introspection endpoint about ``token``; cache an active one as a local AccessToken.

        The resource server authenticates with ``introspection_token`` (Bearer) or else with
        ``introspection_credentials`` (``(client_id, secret)``, Basic). The local copy has no application,
        the remote user (through ``get_or_create_user_from_content`` when the answer names one) and the
        remote scope; it expires with the remote token, after ``RESOURCE_SERVER_TOKEN_CACHING_SECONDS`` at
        the latest. None when the token is not active or the answer is unusable.
        """
        headers = introspection.authorization_headers(introspection_token, introspection_credentials)
        content = introspection.introspect(introspection_url, token, headers)
        if content is None or content.get("active") is not True:
            return None
        expires = introspection.cache_expiry(content)
        scope = content.get("scope", "")
        if expires is None or not isinstance(scope, str):
            log.error("Introspection: unusable exp or scope in the answer about an active token")
            return None
        user = None
        if "username" in content:
            if not (content["username"] and is_lookup_safe(content["username"])):
                log.error("Introspection: unusable username %r", content["username"])
                return None
            user = self.get_or_create_user_from_content(content)
        access_token, _ = AccessToken.objects.update_or_create(
            token_checksum=token_checksum(token),
            defaults={"token": token, "user": user, "application": None, "scope": scope, "expires": expires},
        )
        return access_token

    def get_or_create_user_from_content(self, content):
        """The local user for an introspection answer's ``username`` (created if new).

        Override to keep remote users somewhere else, a profile model for instance.
        """
        user, _ = UserModel.objects.get_or_create(**{UserModel.USERNAME_FIELD: content["username"]})
        return user

    # OpenID Connect: ID tokens

    def get_jwt_bearer_token(self, token, token_handler, request):
        # oauthlib asks for this to be the ID token.
        return self.get_id_token(token, token_handler, request)

    def finalize_id_token(self, id_token, token, token_handler, request):
        """Complete oauthlib's ID token claims, sign them with the client's key, save the IDToken.

        Returns the serialized JWT. The IDToken row becomes ``request.id_token`` (and
        ``request.access_token``, as in DOT 3.0.1).
        """
        if request.client.algorithm == AbstractApplication.NO_ALGORITHM:
            # The client asked for the openid scope but is registered without a signing algorithm.
            description = "This application is not configured for OpenID Connect."
            raise errors.InvalidScopeError(description=description, request=request)
        our_claims, expiration_time = self.get_id_token_dictionary(token, token_handler, request)
        id_token.update(our_claims)
        # oauthlib leaves the nonce out in some flows (oauthlib issue #746).
        if request.nonce:
            id_token.setdefault("nonce", request.nonce)

        key = self._id_token_signing_key(request)
        header = {"typ": "JWT", "alg": request.client.algorithm}
        if request.client.algorithm == AbstractApplication.RS256_ALGORITHM:
            # Relying parties pick the verification key from the JWKS by its kid.
            header["kid"] = key.thumbprint()
        signed = jwt.JWT(header=json.dumps(header, default=str), claims=json.dumps(id_token, default=str))
        signed.make_signed_token(key)

        with transaction.atomic(using=router.db_for_write(IDToken), savepoint=False):
            id_token_instance = self._save_id_token(id_token["jti"], request, expiration_time)
        request.access_token = id_token_instance
        request.id_token = id_token_instance
        return signed.serialize()

    def _id_token_signing_key(self, request):
        """The key of the client's algorithm; an OAuth2 error when HS256 has no key the client can verify."""
        if request.client.algorithm != AbstractApplication.HS256_ALGORITHM:
            return request.client.jwk_key
        key = _hs256_key(request)
        if key is None:
            log.warning(
                "No HS256 key for the ID token of client %r: its secret is shorter than %d bytes, or stored "
                "hashed while the client did not authenticate with it. Give it a long enough secret, "
                "stored with hash_client_secret=False to issue its ID tokens in every flow.",
                request.client.client_id,
                _HS256_MIN_KEY_BYTES,
            )
            # The same answer as for a client without any algorithm: the openid scope cannot be served.
            description = "This application cannot sign ID tokens with HS256 in this flow."
            raise errors.InvalidScopeError(description=description, request=request)
        return key

    def get_id_token_dictionary(self, token, token_handler, request):
        """The claims added to oauthlib's (aud, iat, nonce, at_hash, c_hash), and the expiry time.

        ``iss``, ``exp``, ``auth_time`` and a fresh ``jti``, on top of ``get_oidc_claims()``. ``auth_time``
        is the user's last login; for a user who never logged in (authenticated by the password grant, or
        created and authenticated by a custom backend), the authentication is happening now (upstream
        3.4.1).
        """
        claims = self.get_oidc_claims(token, token_handler, request)
        expiration_time = timezone.now() + timedelta(seconds=oauth2_settings.ID_TOKEN_EXPIRE_SECONDS)
        claims["iss"] = self.get_oidc_issuer_endpoint(request)
        claims["exp"] = _epoch_seconds(expiration_time)
        claims["auth_time"] = _epoch_seconds(request.user.last_login or timezone.now())
        claims["jti"] = str(uuid.uuid4())
        return claims, expiration_time

    def _save_id_token(self, jti, request, expires, *args, **kwargs):
        return IDToken.objects.create(
            user=request.user,
            scope=request.scope or " ".join(request.scopes),
            expires=expires,
            jti=jti,
            application=request.client,
        )

    def get_oidc_issuer_endpoint(self, request):
        return oauth2_settings.oidc_issuer(request)

    def validate_jwt_bearer_token(self, token, scopes, request):
        return self.validate_id_token(token, scopes, request)

    def validate_id_token(self, token, scopes, request):
        """Whether ``token`` is a valid ID token of ours granting ``scopes``; sets request.client, user...

        oauthlib asks this when a ``Bearer`` value looks like a JWT. Such a token stands for the access
        token issued with it, so it is a bearer only while that access token is alive: revoking the
        access token (logout, revocation endpoint, authorized-tokens page) ends it too.
        """
        id_token = self._load_id_token(token) if token else None
        if id_token is None or not id_token.allow_scopes(scopes):
            return False
        if not is_honoured(id_token.application, id_token.user, request):
            return False
        if not AccessToken.objects.filter(id_token=id_token, expires__gt=timezone.now()).exists():
            log.debug("ID token %s refused as a bearer: its access token is expired or revoked", id_token.jti)
            return False
        # Django REST framework reads the token from request.access_token.
        request.access_token = id_token
        request.scopes = scopes
        request.user = id_token.user
        request.client = id_token.application
        return True

    def _load_id_token(self, token):
        """The IDToken of a JWT we issued (see ``_verify_id_token``), else None."""
        id_token, _claims = self._verify_id_token(token)
        return id_token

    def _verify_id_token(self, token, check_expiry=True):
        """``(IDToken, claims)`` of an ID token this provider issued and still honours, else ``(None, None)``.

        The JWT must verify with the key of the one application its ``aud`` names, and the IDToken row of
        its ``jti`` must belong to that very application. A signature proves only who holds the key, and
        an HS256 key is a client secret its application's owner knows: without the second condition, the
        owner of one HS256 application could sign the ``jti`` of another application's ID token and act
        as that token's user. With ``check_expiry``, the JWT's ``exp`` and ``nbf`` are checked and so is
        the row's own expiry, which a re-signed token with a new ``exp`` cannot move.
        """
        claims = self._verified_id_token_claims(token, check_expiry)
        id_token = self._stored_id_token(claims) if claims else None
        if id_token is None or (check_expiry and id_token.is_expired()):
            return None, None
        return id_token, claims

    def _verified_id_token_claims(self, token, check_expiry=True):
        """The claims of a JWT that verifies with the key of the one application its ``aud`` names, or None.

        This proves only who holds that key; ``_stored_id_token`` says whether we issued it.
        """
        if not is_compact_jws(token):
            return None
        try:
            # The key lookup is inside: a project's override may let a malformed token's errors out.
            key = self._get_key_for_token(token)
            if not key:
                return None
            # An empty dict keeps jwcrypto's claim type checks but skips the time checks; None does both.
            verified = jwt.JWT(key=key, jwt=token, check_claims=None if check_expiry else {})
            claims = json.loads(verified.claims)
        except _UNUSABLE_ID_TOKEN_ERRORS:
            return None
        # Ours name one client and carry the UUID of their IDToken row; anything else is not ours.
        if not isinstance(claims, dict) or sole_audience(claims.get("aud")) is None:
            return None
        if not _is_uuid(claims.get("jti")):
            return None
        return claims

    def _stored_id_token(self, claims):
        """The IDToken row of verified ``claims``: its ``jti``, issued to the application of its ``aud``."""
        try:
            return unique_row(
                IDToken.objects.filter(jti=claims["jti"], application__client_id=sole_audience(claims["aud"]))
            )
        except _UNUSABLE_ID_TOKEN_ERRORS:
            return None

    def _get_key_for_token(self, token):
        """The key of the application the unverified token names in ``aud``, or None.

        Nothing in the token is trusted yet: it only says which key to verify it with.
        """
        try:
            unverified = jws.JWS()
            unverified.deserialize(token)
            claims = json.loads(unverified.objects["payload"].decode("utf-8"))
        except (JWException, ValueError, TypeError, KeyError, AttributeError):
            return None
        if not isinstance(claims, dict) or "aud" not in claims:
            return None
        application = self._get_client_by_audience(claims["aud"])
        if not application:
            return None
        try:
            return application.jwk_key
        except ImproperlyConfigured as exc:
            # Fail closed: an HS256 application whose secret is stored hashed has no verification key.
            log.warning("ID token of application %r refused: %s", application.client_id, exc)
            return None

    def _get_client_by_audience(self, audience):
        """The application an ``aud`` claim (one client id or a list) names; first match wins."""
        return Application.objects.filter(client_id__in=audience_client_ids(audience)).first()

    # OpenID Connect: claims

    @classmethod
    def _get_additional_claims_is_request_agnostic(cls):
        # get_additional_claims(self), the older form without a request, returns claims as callables.
        return len(inspect.signature(cls.get_additional_claims).parameters) == 1

    def get_additional_claims(self, request):
        """Claims beyond ``sub`` about ``request.user``, released according to ``oidc_claim_scope``."""
        return {}

    def get_claim_dict(self, request):
        """``sub`` plus ``get_additional_claims()``: values, or callables of the request (older form)."""
        if self._get_additional_claims_is_request_agnostic():
            claims = {"sub": lambda r: str(r.user.pk)}
            claims.update(self.get_additional_claims())
        else:
            claims = {"sub": str(request.user.pk)}
            claims.update(self.get_additional_claims(request))
        return claims

    def get_discovery_claims(self, request):
        """Claim names for the discovery document: only ``sub`` unless claims can be listed request-free.

        ``sub`` may come twice, as in DOT 3.0.1: the discovery view lists each name once, whatever
        validator answered.
        """
        claims = ["sub"]
        if self._get_additional_claims_is_request_agnostic():
            claims += list(self.get_claim_dict(request))
        return claims

    def get_oidc_claims(self, token, token_handler, request):
        """The claims of ``get_claim_dict`` that the granted scopes release (see ``oidc_claim_scope``)."""
        released = {}
        for name, value in self.get_claim_dict(request).items():
            if not self.oidc_claim_scope or self.oidc_claim_scope.get(name) in request.scopes:
                released[name] = value(request) if callable(value) else value
        return released

    def get_userinfo_claims(self, request):
        """The UserInfo endpoint's claims: those the ID token would carry for this access token.

        A token without an end user (client credentials granted ``openid``) has no claims to give: it is
        the wrong token for this endpoint, ``invalid_token`` (OpenID Connect Core 5.3.3), not a crash.
        """
        if request.user is None:
            raise errors.InvalidTokenError(
                description=gettext("The access token was not issued for an end user."), request=request
            )
        return self.get_oidc_claims(request.access_token, None, request)

    # OpenID Connect: authorization request checks

    def validate_user_match(self, id_token_hint, scopes, claims, request):
        """``id_token_hint``: whether it is an ID token this provider issued, to the user who answers.

        OpenID Connect Core 3.1.2.1: the user the hint names must be the one signed in, else
        ``login_required``; an expired hint is fine (a relying party keeps it past its expiry), a forged,
        unsigned or unknown one names nobody. While the request is only validated, oauthlib's request has
        no user yet (see ``validate_silent_login``) and only the hint is checked; the user is compared when
        the response is created, before any code or token exists.
        """
        if not id_token_hint:
            return True
        id_token, _claims = self._verify_id_token(id_token_hint, check_expiry=False)
        if id_token is None:
            return False
        user = request.user
        return user is None or id_token.user_id == user.pk

    def validate_silent_login(self, request):
        """``prompt=none``: whether the end user is logged in, so that no login page is needed.

        oauthlib asks while it validates the authorization request, when its request carries no user yet:
        the authorization view then answers ``login_required`` to an anonymous user itself, after the
        request proved valid. oauthlib asks again when the view creates the response, for the user it
        grants to; only a user known to be anonymous fails.
        """
        user = request.user
        return user is None or user.is_authenticated

    def validate_silent_authorization(self, request):
        """``prompt=none``: whether the user's consent may be taken as given, without the consent page.

        Whether consent is needed is the authorization view's policy (``skip_authorization``,
        ``approval_prompt`` and the user's live tokens). The view answers ``consent_required`` itself
        when it would ask, and creates a response only once it would not; so the answer here is yes.
        """
        return True
