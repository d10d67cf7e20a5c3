"""Pages where a logged-in user reviews the access tokens issued to them and revokes any of them."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponseRedirect
from django.urls import reverse_lazy
from django.views.generic import DeleteView, ListView

from .._refresh_tokens import refresh_token_accessor, revoke_access_token
from ..models import get_access_token_model, get_refresh_token_model
from ._objects import PrimaryKeyObjectMixin


class AuthorizedTokensListView(LoginRequiredMixin, ListView):
    """Lists the requesting user's access tokens, each with its application and scopes."""

    context_object_name = "authorized_tokens"
    template_name = "oauth2_provider/authorized-tokens.html"
    model = get_access_token_model()

    def get_queryset(self):
        # The template names each token's application: fetch them in the same query.
        return super().get_queryset().filter(user=self.request.user).select_related("application")


class AuthorizedTokenDeleteView(LoginRequiredMixin, PrimaryKeyObjectMixin, DeleteView):
    """Asks for confirmation (GET), then revokes one of the user's access tokens (POST).

    Another user's token is outside the queryset, so it answers 404 rather than revealing that it exists.
    """

    template_name = "oauth2_provider/authorized-token-delete.html"
    success_url = reverse_lazy("oauth2_provider:authorized-token-list")
    model = get_access_token_model()

    def get_queryset(self):
        tokens = super().get_queryset().filter(user=self.request.user)
        # Revoking needs the refresh token issued beside the access token: fetch it in the same query.
        accessor = refresh_token_accessor(get_refresh_token_model())
        return tokens if accessor is None else tokens.select_related(accessor)

    def form_valid(self, form):
        """Revoke the access token together with the refresh token issued beside it.

        Deleting the access token alone left that refresh token usable, so the application could get
        a new access token right away (backported fix of upstream #1510).
        """
        revoke_access_token(self.object, get_refresh_token_model())
        return HttpResponseRedirect(self.get_success_url())
