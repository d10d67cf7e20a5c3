from django.dispatch import Signal


# Sent after an authorization request was approved and a token issued; kwargs: request, token.
app_authorized = Signal()
