"""Admin pages for the provider's models.

Each model is the one the project's settings select (the models are swappable), and each is
registered with the ModelAdmin class named by the matching ``*_ADMIN_CLASS`` setting, whose
default is the class of the same name below.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model

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


class ApplicationAdmin(admin.ModelAdmin):
    list_display = ("pk", "name", "user", "client_type", "authorization_grant_type")
    list_filter = ("client_type", "authorization_grant_type", "skip_authorization")
    radio_fields = {"client_type": admin.HORIZONTAL, "authorization_grant_type": admin.VERTICAL}
    search_fields = ("name", *_by_user_email)
    raw_id_fields = ("user",)


class AccessTokenAdmin(admin.ModelAdmin):
    list_display = ("token", "user", "application", "expires")
    list_select_related = ("application", "user")
    list_filter = ("application",)
    search_fields = ("token", *_by_user_email)
    raw_id_fields = ("user", "source_refresh_token")


class GrantAdmin(admin.ModelAdmin):
    list_display = ("code", "application", "user", "expires")
    search_fields = ("code", *_by_user_email)
    raw_id_fields = ("user",)


class IDTokenAdmin(admin.ModelAdmin):
    list_display = ("jti", "user", "application", "expires")
    list_select_related = ("application", "user")
    list_filter = ("application",)
    search_fields = _by_user_email
    raw_id_fields = ("user",)


class RefreshTokenAdmin(admin.ModelAdmin):
    list_display = ("token", "user", "application")
    list_filter = ("application",)
    search_fields = ("token", *_by_user_email)
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
