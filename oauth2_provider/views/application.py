"""Pages where a logged-in user registers and manages the OAuth2 applications they own."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.forms.models import modelform_factory
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import CreateView, DeleteView, DetailView, ListView, UpdateView

from ..forms import CLIENT_SECRET_HELP_TEXT
from ..models import get_application_model
from ._objects import PrimaryKeyObjectMixin


# The fields a user may set on their own application. Deliberately absent: ``user`` (always the requester)
# and ``skip_authorization`` (letting an application bypass the consent screen is an admin decision).
_EDITABLE_FIELDS = (
    "name",
    "client_id",
    "client_secret",
    "hash_client_secret",
    "client_type",
    "authorization_grant_type",
    "redirect_uris",
    "post_logout_redirect_uris",
    "allowed_origins",
    "algorithm",
)


def _application_form_class():
    """A ModelForm for the application model in use now (it may be swapped), over ``_EDITABLE_FIELDS``."""
    return modelform_factory(
        get_application_model(),
        fields=_EDITABLE_FIELDS,
        help_texts={"client_secret": CLIENT_SECRET_HELP_TEXT},
    )


class ApplicationOwnerIsUserMixin(LoginRequiredMixin, PrimaryKeyObjectMixin):
    """Restricts a view to the requesting user's own applications.

    Anyone else's application is simply not in the queryset, so the generic views answer 404 for it, as
    for a primary key that cannot exist.
    """

    fields = "__all__"

    def get_queryset(self):
        return get_application_model().objects.filter(user=self.request.user)


# The form posts the client secret in cleartext: Django's error reports must not show it (upstream #1512).
@method_decorator(sensitive_post_parameters("client_secret"), name="post")
class ApplicationRegistration(LoginRequiredMixin, CreateView):
    """Registers a new application owned by the requesting user."""

    template_name = "oauth2_provider/application_registration_form.html"

    def get_form_class(self):
        return _application_form_class()

    def form_valid(self, form):
        form.instance.user = self.request.user
        return super().form_valid(form)


class ApplicationDetail(ApplicationOwnerIsUserMixin, DetailView):
    """Shows one of the user's applications."""

    context_object_name = "application"
    template_name = "oauth2_provider/application_detail.html"


class ApplicationList(ApplicationOwnerIsUserMixin, ListView):
    """Lists the user's applications."""

    context_object_name = "applications"
    template_name = "oauth2_provider/application_list.html"


class ApplicationDelete(ApplicationOwnerIsUserMixin, DeleteView):
    """Asks for confirmation (GET), then deletes one of the user's applications (POST)."""

    context_object_name = "application"
    success_url = reverse_lazy("oauth2_provider:list")
    template_name = "oauth2_provider/application_confirm_delete.html"


@method_decorator(sensitive_post_parameters("client_secret"), name="post")
class ApplicationUpdate(ApplicationOwnerIsUserMixin, UpdateView):
    """Edits one of the user's applications; on success it redirects to the application's detail page."""

    context_object_name = "application"
    template_name = "oauth2_provider/application_form.html"

    def get_form_class(self):
        return _application_form_class()
