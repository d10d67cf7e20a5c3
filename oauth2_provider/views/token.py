"""Pages where a logged-in user reviews the access tokens issued to them and revokes any of them."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import reverse_lazy
from django.views.generic import DeleteView, ListView

from ..models import get_access_token_model


class AuthorizedTokensListView(LoginRequiredMixin, ListView):
    """Lists the requesting user's access tokens, each with its application and scopes."""

    context_object_name = "authorized_tokens"
    template_name = "oauth2_provider/authorized-tokens.html"
    model = get_access_token_model()

    def get_queryset(self):
        # The template names each token's application: fetch them in the same query.
        return super().get_queryset().filter(user=self.request.user).select_related("application")


class AuthorizedTokenDeleteView(LoginRequiredMixin, DeleteView):
    """Asks for confirmation (GET), then deletes one of the user's access tokens (POST).

    Another user's token is outside the queryset, so it answers 404 rather than revealing that it exists.
    """

    template_name = "oauth2_provider/authorized-token-delete.html"
    success_url = reverse_lazy("oauth2_provider:authorized-token-list")
    model = get_access_token_model()

    def get_queryset(self):
        return super().get_queryset().filter(user=self.request.user)
