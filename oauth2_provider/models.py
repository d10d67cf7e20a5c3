import logging
import uuid
from contextlib import suppress

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher, make_password
from django.core.exceptions import NON_FIELD_ERRORS, ImproperlyConfigured, ValidationError
from django.db import IntegrityError, models, router, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from jwcrypto import jwk
from jwcrypto.common import base64url_encode
from oauthlib.oauth2.rfc6749 import errors

from ._checksum import CHECKSUM_LENGTH, token_checksum
from ._cleartokens import clear_expired_steps
from ._redirect_uris import (
    UnmatchableRedirectURI,
    is_origin_allowed,
    redirect_to_uri_allowed,
    split_redirect_uri,
)
from .generators import generate_client_id, generate_client_secret
from .scopes import get_scopes_backend
from .settings import oauth2_settings
from .utils import jwk_from_pem
from .validators import AllowedURIValidator


logger = logging.getLogger(__name__)


def _is_hashed_secret(secret):
    """Whether a stored client secret is in a password hasher's format (``hash_client_secret``)."""
    try:
        identify_hasher(secret)
    except ValueError:
        return False
    return True


class ClientSecretField(models.CharField):
    """Stores the client secret through Django's password hashers, unless the application opts out."""

    # A traceback through here must not show the cleartext secret in Django's error reports (#1512).
    @sensitive_variables("secret", "hashed")
    def pre_save(self, model_instance, add):
        if getattr(model_instance, "hash_client_secret", True):
            secret = getattr(model_instance, self.attname)
            if not _is_hashed_secret(secret):
                # Not in a hasher's format yet: this is a plain secret, hash it now.
                hashed = make_password(secret, hasher=oauth2_settings.CLIENT_SECRET_HASHER)
                setattr(model_instance, self.attname, hashed)
        return super().pre_save(model_instance, add)


class TokenChecksumField(models.CharField):
    """SHA-256 of the instance's ``token``, recomputed on every save; tokens are looked up by it."""

    def pre_save(self, model_instance, add):
        setattr(model_instance, self.attname, token_checksum(model_instance.token))
        return super().pre_save(model_instance, add)


class AbstractApplication(models.Model):
    """A client registered with this authorization server (RFC 6749 section 2).

    ``redirect_uris``, ``post_logout_redirect_uris`` and ``allowed_origins`` are
    space-separated lists. ``client_secret`` is hashed on save when ``hash_client_secret``
    is true, so the cleartext is only available before the first save.
    """

    CLIENT_CONFIDENTIAL = "confidential"
    CLIENT_PUBLIC = "public"
    CLIENT_TYPES = (
        (CLIENT_CONFIDENTIAL, _("Confidential")),
        (CLIENT_PUBLIC, _("Public")),
    )

    GRANT_AUTHORIZATION_CODE = "authorization-code"
    GRANT_IMPLICIT = "implicit"
    GRANT_PASSWORD = "password"
    GRANT_CLIENT_CREDENTIALS = "client-credentials"
    GRANT_OPENID_HYBRID = "openid-hybrid"
    GRANT_TYPES = (
        (GRANT_AUTHORIZATION_CODE, _("Authorization code")),
        (GRANT_IMPLICIT, _("Implicit")),
        (GRANT_PASSWORD, _("Resource owner password-based")),
        (GRANT_CLIENT_CREDENTIALS, _("Client credentials")),
        (GRANT_OPENID_HYBRID, _("OpenID connect hybrid")),
    )

    NO_ALGORITHM = ""
    RS256_ALGORITHM = "RS256"
    HS256_ALGORITHM = "HS256"
    ALGORITHM_TYPES = (
        (NO_ALGORITHM, _("No OIDC support")),
        (RS256_ALGORITHM, _("RSA with SHA-2 256")),
        (HS256_ALGORITHM, _("HMAC with SHA-2 256")),
    )

    id = models.BigAutoField(primary_key=True)
    client_id = models.CharField(max_length=100, unique=True, default=generate_client_id, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        related_name="%(app_label)s_%(class)s",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
    )
    redirect_uris = models.TextField(blank=True, help_text=_("Allowed URIs list, space separated"))
    post_logout_redirect_uris = models.TextField(
        blank=True, default="", help_text=_("Allowed Post Logout URIs list, space separated")
    )
    client_type = models.CharField(max_length=32, choices=CLIENT_TYPES)
    authorization_grant_type = models.CharField(max_length=32, choices=GRANT_TYPES)
    client_secret = ClientSecretField(
        max_length=255,
        blank=True,
        default=generate_client_secret,
        db_index=True,
        help_text=_("Hashed on Save. Copy it now if this is a new secret."),
    )
    hash_client_secret = models.BooleanField(default=True)
    name = models.CharField(max_length=255, blank=True)
    skip_authorization = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    algorithm = models.CharField(max_length=5, choices=ALGORITHM_TYPES, default=NO_ALGORITHM, blank=True)
    allowed_origins = models.TextField(
        blank=True, default="", help_text=_("Allowed origins list to enable CORS, space separated")
    )

    class Meta:
        abstract = True

    def __str__(self):
        return self.name or self.client_id

    def get_absolute_url(self):
        return reverse("oauth2_provider:detail", args=[str(self.pk)])

    @property
    def default_redirect_uri(self):
        """The registered redirect URI when exactly one is registered."""
        assert self.redirect_uris, (
            "If you are using implicit, authorization_code or all-in-one grant_type, "
            "you must define redirect_uris field in your Application model"
        )
        uris = self.redirect_uris.split()
        if len(uris) != 1:
            raise errors.MissingRedirectURIError()
        return uris[0]

    def redirect_uri_allowed(self, uri):
        """Whether ``uri`` matches one of ``redirect_uris``."""
        return redirect_to_uri_allowed(uri, self.redirect_uris.split())

    def post_logout_redirect_uri_allowed(self, uri):
        """Whether ``uri`` matches one of ``post_logout_redirect_uris``."""
        return redirect_to_uri_allowed(uri, self.post_logout_redirect_uris.split())

    def origin_allowed(self, origin):
        """Whether ``origin`` is one of ``allowed_origins`` (an empty list allows nothing)."""
        return self.allowed_origins and is_origin_allowed(origin, self.allowed_origins.split())

    def clean(self):
        # Each problem on the field it concerns, all of them at once (upstream #1343): a form shows every
        # message beside its input, and ``message_dict`` names the field.
        errors = {}
        for field, problems in (
            ("redirect_uris", self._redirect_uri_problems()),
            ("allowed_origins", self._allowed_origin_problems()),
            ("algorithm", self._algorithm_problems()),
            ("client_type", self._client_type_problems()),
            ("client_secret", self._client_secret_problems()),
        ):
            if problems:
                errors[field] = problems
        if errors:
            raise ValidationError(errors)

    def full_clean(self, exclude=None, **kwargs):
        # A form that leaves out a field clean() reports on (a project's own narrower ModelForm) would
        # fail with ValueError: its message becomes a non-field error there instead.
        try:
            super().full_clean(exclude=exclude, **kwargs)
        except ValidationError as error:
            outside = set(exclude or ()) & set(getattr(error, "error_dict", ()))
            if not outside:
                raise
            errors = {field: found for field, found in error.error_dict.items() if field not in outside}
            errors.setdefault(NON_FIELD_ERRORS, []).extend(
                problem for field in sorted(outside) for problem in error.error_dict[field]
            )
            raise ValidationError(errors) from None

    def _redirect_uri_problems(self):
        redirect_uris = self.redirect_uris.split()
        if not redirect_uris:
            needs_redirect = (self.GRANT_AUTHORIZATION_CODE, self.GRANT_IMPLICIT, self.GRANT_OPENID_HYBRID)
            if self.authorization_grant_type in needs_redirect:
                message = _("redirect_uris cannot be empty with grant_type {grant_type}")
                return [ValidationError(message.format(grant_type=self.authorization_grant_type))]
            return []
        schemes = {scheme.lower() for scheme in self.get_allowed_schemes()}
        validate = AllowedURIValidator(schemes, name="redirect uri", allow_path=True, allow_query=True)
        problems = []
        for uri in redirect_uris:
            try:
                validate(uri)
                # The validator lets a bare trailing "#", credentials and ports out of range through, but
                # no request can match such a URI (upstream #1801): refuse it now, not at login.
                split_redirect_uri(uri)
            except ValidationError as invalid:
                problems += invalid.error_list
            except UnmatchableRedirectURI as unmatchable:
                message = _("Redirect URI {uri} can never match: {reason}.")
                problems.append(ValidationError(message.format(uri=uri, reason=unmatchable.reason)))
        return problems

    def _allowed_origin_problems(self):
        # Origins are scheme://host[:port] only; CORS is offered over ALLOWED_SCHEMES.
        validate = AllowedURIValidator(oauth2_settings.ALLOWED_SCHEMES, "allowed origin")
        problems = []
        for origin in self.allowed_origins.split():
            try:
                validate(origin)
            except ValidationError as invalid:
                problems += invalid.error_list
        return problems

    def _algorithm_problems(self):
        if self.algorithm == self.RS256_ALGORITHM and not oauth2_settings.OIDC_RSA_PRIVATE_KEY:
            return [ValidationError(_("You must set OIDC_RSA_PRIVATE_KEY to use RSA algorithm"))]
        if self.algorithm == self.HS256_ALGORITHM and (
            self.client_type == self.CLIENT_PUBLIC
            or self.authorization_grant_type in (self.GRANT_IMPLICIT, self.GRANT_OPENID_HYBRID)
        ):
            # The client secret is the HMAC key: it must never reach a browser.
            return [ValidationError(_("You cannot use HS256 with public grants or clients"))]
        return []

    # Only a confidential client authenticates, and only with a secret (RFC 6749 sections 2.3.1 and 4.4): a
    # public client-credentials application would hand tokens to whoever knows its id.
    def _client_type_problems(self):
        if (
            self.client_type == self.CLIENT_PUBLIC
            and self.authorization_grant_type == self.GRANT_CLIENT_CREDENTIALS
        ):
            return [ValidationError(_("The client credentials grant needs a confidential client"))]
        return []

    def _client_secret_problems(self):
        if self.client_type == self.CLIENT_CONFIDENTIAL and not self.client_secret:
            return [ValidationError(_("A confidential client needs a client secret"))]
        return []

    def get_allowed_schemes(self):
        """Schemes a redirect URI may use; override per application if needed."""
        return oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES

    def allows_grant_type(self, *grant_types):
        return self.authorization_grant_type in grant_types

    def is_usable(self, request):
        """Hook to disable an application per request (``request`` is an oauthlib request)."""
        return True

    @property
    def jwk_key(self):
        """The key that signs and verifies this application's ID tokens.

        For HS256 that is the cleartext client secret (OpenID Connect Core 1.0 section 10.1). A secret
        stored hashed is not a key at all: whoever reads the hash (the application's owner on its detail
        page, an admin, a database dump) could sign tokens with it. So there is none.
        """
        if self.algorithm == self.RS256_ALGORITHM:
            if not oauth2_settings.OIDC_RSA_PRIVATE_KEY:
                raise ImproperlyConfigured("You must set OIDC_RSA_PRIVATE_KEY to use RSA algorithm")
            return jwk_from_pem(oauth2_settings.OIDC_RSA_PRIVATE_KEY)
        if self.algorithm == self.HS256_ALGORITHM:
            if _is_hashed_secret(self.client_secret):
                raise ImproperlyConfigured(
                    "This application's client secret is stored hashed, so there is no HS256 key to verify "
                    "its ID tokens with; store the secret with hash_client_secret=False or use RS256"
                )
            return jwk.JWK(kty="oct", k=base64url_encode(self.client_secret))
        raise ImproperlyConfigured("This application does not support signed tokens")


class ApplicationManager(models.Manager):
    def get_by_natural_key(self, client_id):
        return self.get(client_id=client_id)


class Application(AbstractApplication):
    objects = ApplicationManager()

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"

    def natural_key(self):
        return (self.client_id,)


def _credential_label(instance):
    """How a grant or token is shown: its model and primary key, never the code or token itself.

    Backported fix of upstream #1736: ``str()`` reaches page titles, breadcrumbs and the change history
    of the admin, and logs.
    """
    return f"{instance._meta.verbose_name} {instance.pk}"


# The two bases below are abstract models, not plain mixins, so that Django flattens them away: a
# project's migrations for models built on ours name only models.Model as base, as with DOT 3.0.1.
class _Expiring(models.Model):
    """``is_expired()`` for models with an ``expires`` datetime (a missing one counts as expired)."""

    class Meta:
        abstract = True

    def is_expired(self):
        return not self.expires or timezone.now() >= self.expires


class _ScopedToken(_Expiring):
    """Scope checks and revocation shared by access tokens and ID tokens."""

    class Meta:
        abstract = True

    def is_valid(self, scopes=None):
        """Not expired and granting every scope in ``scopes``."""
        return not self.is_expired() and self.allow_scopes(scopes)

    def allow_scopes(self, scopes):
        """Whether the token grants every scope in ``scopes`` (an empty or None ``scopes`` is allowed)."""
        return not scopes or set(scopes).issubset(self.scope.split())

    def revoke(self):
        """Revoking these tokens deletes them."""
        self.delete()

    @property
    def scopes(self):
        """The token's scopes known to the scopes backend, as ``{name: description}``."""
        granted = set(self.scope.split())
        return {
            name: description
            for name, description in get_scopes_backend().get_all_scopes().items()
            if name in granted
        }


class AbstractGrant(_Expiring):
    """An authorization code (RFC 6749 section 4.1.2) waiting to be exchanged for a token."""

    CODE_CHALLENGE_PLAIN = "plain"
    CODE_CHALLENGE_S256 = "S256"
    CODE_CHALLENGE_METHODS = ((CODE_CHALLENGE_PLAIN, "plain"), (CODE_CHALLENGE_S256, "S256"))

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="%(app_label)s_%(class)s"
    )
    code = models.CharField(max_length=255, unique=True)
    application = models.ForeignKey(oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE)
    expires = models.DateTimeField()
    redirect_uri = models.TextField()
    scope = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    code_challenge = models.CharField(max_length=128, blank=True, default="")
    code_challenge_method = models.CharField(
        max_length=10, blank=True, default="", choices=CODE_CHALLENGE_METHODS
    )
    nonce = models.CharField(max_length=255, blank=True, default="")
    claims = models.TextField(blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return _credential_label(self)

    def redirect_uri_allowed(self, uri):
        return uri == self.redirect_uri


class Grant(AbstractGrant):
    class Meta(AbstractGrant.Meta):
        swappable = "OAUTH2_PROVIDER_GRANT_MODEL"


class AbstractAccessToken(_ScopedToken):
    """A bearer token (RFC 6749 section 5), looked up by ``token_checksum``."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        blank=True,
        null=True,
        related_name="%(app_label)s_%(class)s",
    )
    # The refresh token consumed to issue this one, if any (a one-to-one is unique already).
    source_refresh_token = models.OneToOneField(
        oauth2_settings.REFRESH_TOKEN_MODEL,
        on_delete=models.SET_NULL,
        blank=True,
        null=True,
        related_name="refreshed_access_token",
    )
    token = models.TextField()
    token_checksum = TokenChecksumField(max_length=CHECKSUM_LENGTH, blank=False, unique=True, db_index=True)
    id_token = models.OneToOneField(
        oauth2_settings.ID_TOKEN_MODEL,
        on_delete=models.CASCADE,
        blank=True,
        null=True,
        related_name="access_token",
    )
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, blank=True, null=True
    )
    expires = models.DateTimeField()
    scope = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self):
        return _credential_label(self)


class AccessToken(AbstractAccessToken):
    class Meta(AbstractAccessToken.Meta):
        swappable = "OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL"


class AbstractRefreshToken(models.Model):
    """A token that buys a new access token; revoking marks it and deletes its access token."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="%(app_label)s_%(class)s"
    )
    token = models.CharField(max_length=255)
    application = models.ForeignKey(oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE)
    access_token = models.OneToOneField(
        oauth2_settings.ACCESS_TOKEN_MODEL,
        on_delete=models.SET_NULL,
        blank=True,
        null=True,
        related_name="refresh_token",
    )
    token_family = models.UUIDField(null=True, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    revoked = models.DateTimeField(null=True)

    class Meta:
        abstract = True
        unique_together = ("token", "revoked")

    def __str__(self):
        return _credential_label(self)

    def revoke(self):
        """Mark this refresh token revoked (once) and revoke its access token."""
        access_token_model = get_access_token_model()
        # The token models share one database (a system check enforces it). No savepoint: in a caller's
        # transaction (the token endpoint's) a failure here fails it all, as in Django's deletion collector.
        with transaction.atomic(using=router.db_for_write(access_token_model), savepoint=False):
            locked = list(
                get_refresh_token_model().objects.select_for_update().filter(pk=self.pk, revoked__isnull=True)
            )
            if not locked:
                return  # revoked already, possibly by a concurrent request
            refresh_token = locked[0]
            with suppress(access_token_model.DoesNotExist):
                access_token_model.objects.get(pk=refresh_token.access_token_id).revoke()
            refresh_token.access_token = None
            refresh_token.revoked = timezone.now()
            refresh_token.save()

    @classmethod
    def _revoke_family(cls, replayed):
        """Revoke every live refresh token of ``replayed``'s family and delete their access tokens.

        Set-based, in a number of statements that does not grow with the family: a rotating client adds a
        row on every refresh, and a client replaying its stale token on a retry timer would otherwise pay
        one locked read and write per token it was ever issued (upstream #1809). The result is what
        ``revoke()`` on each member gives, so a model whose ``revoke()`` does more (or whose access token
        model's does) is still revoked row by row. So is a family in which two live members share a token
        value, which one shared ``revoked`` timestamp cannot cover under the ``(token, revoked)``
        uniqueness.

        3.0.1's schema has no index on ``token_family`` (upstream added one with this fix, in a migration
        of its own). A family never leaves the user and the application of its first token, whose foreign
        keys are indexed: its members are looked up through them, so a replay costs index lookups over that
        user's refresh tokens at that application, never a scan of the table. A family revoked already
        costs that one lookup and nothing more.
        """
        access_token_model = get_access_token_model()
        members = cls.objects.filter(
            token_family=replayed.token_family,
            user_id=replayed.user_id,
            application_id=replayed.application_id,
        )
        revoked_as_shipped = (
            cls.revoke is AbstractRefreshToken.revoke
            and access_token_model.revoke is AbstractAccessToken.revoke
        )
        if revoked_as_shipped:
            try:
                with transaction.atomic(using=router.db_for_write(access_token_model)):
                    cls._revoke_live_members(members.filter(revoked__isnull=True), access_token_model)
                return
            except IntegrityError:
                pass
        for member in members:
            member.revoke()

    @classmethod
    def _revoke_live_members(cls, live, access_token_model):
        # Locked, so that a rotation of a member waits and then finds it revoked. A rotation that committed
        # a new member meanwhile is caught by the next look, until there is no live member left.
        while found := list(live.select_for_update().values_list("pk", "access_token_id")):
            # Deleting is what revoking an access token does; the refresh tokens' links to them are
            # cleared by the SET_NULL foreign key.
            access_token_model.objects.filter(pk__in=[token for _, token in found if token]).delete()
            now = timezone.now()
            # update() bypasses auto_now: ``updated`` is set here as save() would.
            cls.objects.filter(pk__in=[pk for pk, _ in found], revoked__isnull=True).update(
                revoked=now, updated=now
            )


class RefreshToken(AbstractRefreshToken):
    class Meta(AbstractRefreshToken.Meta):
        swappable = "OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL"


class AbstractIDToken(_ScopedToken):
    """An OpenID Connect ID token, identified by its JWT ID (``jti``)."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        blank=True,
        null=True,
        related_name="%(app_label)s_%(class)s",
    )
    jti = models.UUIDField(unique=True, default=uuid.uuid4, editable=False, verbose_name="JWT Token ID")
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, blank=True, null=True
    )
    expires = models.DateTimeField()
    scope = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self):
        return f"JTI: {self.jti} User: {self.user_id}"


class IDToken(AbstractIDToken):
    class Meta(AbstractIDToken.Meta):
        swappable = "OAUTH2_PROVIDER_ID_TOKEN_MODEL"


def get_application_model():
    """The Application model this project uses."""
    return apps.get_model(oauth2_settings.APPLICATION_MODEL)


def get_grant_model():
    """The Grant model this project uses."""
    return apps.get_model(oauth2_settings.GRANT_MODEL)


def get_access_token_model():
    """The AccessToken model this project uses."""
    return apps.get_model(oauth2_settings.ACCESS_TOKEN_MODEL)


def get_id_token_model():
    """The IDToken model this project uses."""
    return apps.get_model(oauth2_settings.ID_TOKEN_MODEL)


def get_refresh_token_model():
    """The RefreshToken model this project uses."""
    return apps.get_model(oauth2_settings.REFRESH_TOKEN_MODEL)


def get_application_admin_class():
    """The ModelAdmin class registered for the Application model."""
    return oauth2_settings.APPLICATION_ADMIN_CLASS


def get_access_token_admin_class():
    """The ModelAdmin class registered for the AccessToken model."""
    return oauth2_settings.ACCESS_TOKEN_ADMIN_CLASS


def get_grant_admin_class():
    """The ModelAdmin class registered for the Grant model."""
    return oauth2_settings.GRANT_ADMIN_CLASS


def get_id_token_admin_class():
    """The ModelAdmin class registered for the IDToken model."""
    return oauth2_settings.ID_TOKEN_ADMIN_CLASS


def get_refresh_token_admin_class():
    """The ModelAdmin class registered for the RefreshToken model."""
    return oauth2_settings.REFRESH_TOKEN_ADMIN_CLASS


def clear_expired():
    """Delete expired tokens and grants (what ``manage.py cleartokens`` runs).

    Refresh tokens without an access token; revoked ones once ``REFRESH_TOKEN_GRACE_PERIOD_SECONDS``
    is over (with ``REFRESH_TOKEN_REUSE_PROTECTION``, once ``REFRESH_TOKEN_EXPIRE_SECONDS`` is); live
    ones whose access token expired longer ago than ``REFRESH_TOKEN_EXPIRE_SECONDS`` (upstream #746).
    Then access tokens that expired and have no refresh token, ID tokens that expired and have no
    access token, expired grants. Tables are walked in committed batches: see
    ``oauth2_provider._cleartokens``.
    """
    steps = clear_expired_steps(
        get_access_token_model(), get_refresh_token_model(), get_id_token_model(), get_grant_model()
    )
    for message, value in steps:
        logger.info(message, value)
