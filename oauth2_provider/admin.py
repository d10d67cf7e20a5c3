"""Admin pages for the provider's models.

Each model is the one the project's settings select (the models are swappable), and each is
registered with the ModelAdmin class named by the matching ``*_ADMIN_CLASS`` setting, whose
default is the class of the same name below.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters

from ._refresh_tokens import refresh_token_accessor, revoke_access_token
from .forms import CLIENT_SECRET_HELP_TEXT
from .models import (
    get_access_token_admin_class,
    get_access_token_model,
    get_application_admin_class,
    get_application_model,
    get_grant_admin_class,
    get_grant_model,
    get_id_token_admin_class,
    get_id_token_model,
    get_refresh_token_admin_class,
    get_refresh_token_model,
)


# A custom user model need not have an email; search by it only where it exists.
has_email = hasattr(get_user_model(), "email")
_by_user_email = ("user__email",) if has_email else ()
# Credentials are found by who holds them, never by their value: a search puts its terms in the
# changelist's query string, which access logs and browser history keep.
_by_user = tuple(dict.fromkeys((f"user__{get_user_model().USERNAME_FIELD}", *_by_user_email)))
_by_holder = ("application__name", "application__client_id", *_by_user)


def _masked(value):
    """``value`` (a token or an authorization code) reduced to an ellipsis and its last few characters.

    Enough to tell rows apart or to recognise a token someone reads out, never enough to use it: at
    most 4 characters and a fifth of the value are shown, so a short value shows less or nothing.
    """
    if not value:
        return ""
    shown = min(4, len(value) // 5)
    return "\u2026" + value[len(value) - shown :]


class _IssuedOnlyAdmin(admin.ModelAdmin):
    """No add page: grants and tokens are issued by the flows, never typed in (upstream 3.4.0, #1736)."""

    def has_add_permission(self, request):
        return False


class _CredentialAdmin(_IssuedOnlyAdmin):
    """Shows a grant's or token's credential masked only (backported fix of upstream #1736).

    Access and refresh tokens and authorization codes are stored in cleartext. The changelist shows
    ``credential_field`` masked; the change and view pages leave the field out and show it masked,
    read only. A subclass that allows adding keeps the field on the add page, for a value its author
    types and already knows.
    """

    credential_field = None

    def get_exclude(self, request, obj=None):
        exclude = super().get_exclude(request, obj)
        if obj is None:
            return exclude
        return (*(exclude or ()), self.credential_field)

    def get_readonly_fields(self, request, obj=None):
        readonly_fields = tuple(super().get_readonly_fields(request, obj))
        if obj is None:
            return readonly_fields
        return (*readonly_fields, "masked_credential")

    @admin.display(description=_("credential"))
    def masked_credential(self, obj):
        return _masked(getattr(obj, self.credential_field))


class ApplicationAdmin(admin.ModelAdmin):
    list_display = ("pk", "name", "user", "client_type", "authorization_grant_type")
    list_filter = ("client_type", "authorization_grant_type", "skip_authorization")
    radio_fields = {"client_type": admin.HORIZONTAL, "authorization_grant_type": admin.VERTICAL}
    search_fields = ("name", *_by_user_email)
    raw_id_fields = ("user",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        help_texts = {"client_secret": CLIENT_SECRET_HELP_TEXT, **kwargs.pop("help_texts", {})}
        return super().get_form(request, obj, change, help_texts=help_texts, **kwargs)

    # The add and change forms post the client secret in cleartext: keep it out of Django's error
    # reports (upstream #1512).
    @method_decorator(sensitive_post_parameters("client_secret"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)


class _RevokeNotDeleteAdmin(_CredentialAdmin):
    """Tokens are revoked, never deleted, from the admin (upstream PR #1798, 3.4.1).

    Deleting an access token leaves its refresh token able to get a new one, and deleting a refresh token
    loses the revoked row that ``REFRESH_TOKEN_REUSE_PROTECTION`` recognises a replay by. The "Revoke
    selected" action revokes as the models and the revocation endpoint do; ``cleartokens`` deletes the
    rows once they are of no use.
    """

    def has_delete_permission(self, request, obj=None):
        return False


@admin.action(description=_("Revoke selected access tokens (and their refresh tokens)"))
def _revoke_access_tokens(modeladmin, request, queryset):
    refresh_token_model = get_refresh_token_model()
    accessor = refresh_token_accessor(refresh_token_model)
    access_tokens = queryset.select_related(accessor) if accessor else queryset
    count = 0
    for access_token in access_tokens:
        revoke_access_token(access_token, refresh_token_model)
        count += 1
    message = ngettext("%d access token revoked.", "%d access tokens revoked.", count)
    modeladmin.message_user(request, message % count)


@admin.action(description=_("Revoke selected refresh tokens (and their access tokens)"))
def _revoke_refresh_tokens(modeladmin, request, queryset):
    count = 0
    for refresh_token in queryset.filter(revoked__isnull=True):
        refresh_token.revoke()
        count += 1
    message = ngettext("%d refresh token revoked.", "%d refresh tokens revoked.", count)
    modeladmin.message_user(request, message % count)


class AccessTokenAdmin(_RevokeNotDeleteAdmin):
    credential_field = "token"
    actions = (_revoke_access_tokens,)
    list_display = ("pk", "masked_credential", "user", "application", "expires")
    list_select_related = ("application", "user")
    list_filter = ("application",)
    search_fields = _by_holder
    raw_id_fields = ("user", "source_refresh_token")


class GrantAdmin(_CredentialAdmin):
    credential_field = "code"
    list_display = ("pk", "masked_credential", "application", "user", "expires")
    # As for refresh tokens (upstream #1674): without it the admin's bare select_related() follows
    # every non-null foreign key, through the user model's as well.
    list_select_related = ("application", "user")
    search_fields = _by_holder
    raw_id_fields = ("user",)


class IDTokenAdmin(_IssuedOnlyAdmin):
    list_display = ("jti", "user", "application", "expires")
    list_select_related = ("application", "user")
    list_filter = ("application",)
    search_fields = _by_user_email
    raw_id_fields = ("user",)


class RefreshTokenAdmin(_RevokeNotDeleteAdmin):
    credential_field = "token"
    actions = (_revoke_refresh_tokens,)
    list_display = ("pk", "masked_credential", "user", "application")
    # Each row shows its user and application: fetched in the changelist's query (upstream #1674).
    list_select_related = ("application", "user")
    list_filter = ("application",)
    search_fields = _by_holder
    raw_id_fields = ("user", "access_token")


application_model = get_application_model()
access_token_model = get_access_token_model()
grant_model = get_grant_model()
id_token_model = get_id_token_model()
refresh_token_model = get_refresh_token_model()

application_admin_class = get_application_admin_class()
access_token_admin_class = get_access_token_admin_class()
grant_admin_class = get_grant_admin_class()
id_token_admin_class = get_id_token_admin_class()
refresh_token_admin_class = get_refresh_token_admin_class()


def _register(site):
    registrations = (
        (application_model, application_admin_class),
        (access_token_model, access_token_admin_class),
        (grant_model, grant_admin_class),
        (id_token_model, id_token_admin_class),
        (refresh_token_model, refresh_token_admin_class),
    )
    for model, model_admin in registrations:
        site.register(model, model_admin)


_register(admin.site)
