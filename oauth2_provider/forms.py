from django import forms
from django.utils.translation import gettext_lazy as _


# The help text of the application forms' client_secret (backport of upstream #1628). The model field
# still says "Hashed on Save...", which is wrong when hash_client_secret is off; changing the model
# would need a migration that DOT 3.0.1 does not have, so the forms that show it say it instead.
CLIENT_SECRET_HELP_TEXT = _(
    "Hashed on save unless “Hash client secret” is unchecked: a hashed secret cannot be read back, "
    "so copy it now if it is a new one."
)


def _hidden(required=True):
    return forms.CharField(required=required, widget=forms.HiddenInput())


class AllowForm(forms.Form):
    """The consent form of the authorization endpoint.

    The parameters of the authorization request travel in hidden fields from the page shown
    on GET to the POST that answers it; ``allow`` is set only by the button that approves.
    """

    allow = forms.BooleanField(required=False)
    redirect_uri = _hidden()
    scope = _hidden()
    nonce = _hidden(required=False)
    client_id = _hidden()
    state = _hidden(required=False)
    response_type = _hidden()
    code_challenge = _hidden(required=False)
    code_challenge_method = _hidden(required=False)
    claims = _hidden(required=False)


class ConfirmLogoutForm(forms.Form):
    """The confirmation form of OpenID Connect RP-initiated logout; ``allow`` confirms the logout."""

    allow = forms.BooleanField(required=False)
    id_token_hint = _hidden(required=False)
    logout_hint = _hidden(required=False)
    client_id = _hidden(required=False)
    post_logout_redirect_uri = _hidden(required=False)
    state = _hidden(required=False)
    ui_locales = _hidden(required=False)

    def __init__(self, *args, **kwargs):
        # The logout view hands its request over, for subclasses that need the user or the session.
        self.request = kwargs.pop("request", None)
        super().__init__(*args, **kwargs)
