"""Token models that ``tests.settings_swapped`` puts in place of the package's four token models.

They differ from the defaults where the set-based deletes of ``cleartokens`` could go wrong: their
own table names, other reverse names on the relations between tokens, a UUID primary key on the
refresh token (so references to it are UUIDs), an access token primary key named ``token_id``, and
two project models referencing access tokens, one with ``CASCADE`` and one with ``SET_NULL``.
"""

import uuid

from django.db import models

from oauth2_provider.models import AbstractAccessToken, AbstractGrant, AbstractIDToken, AbstractRefreshToken
from oauth2_provider.settings import oauth2_settings


class IdentityToken(AbstractIDToken):
    class Meta(AbstractIDToken.Meta):
        db_table = "swapped_identity_token"


class Token(AbstractAccessToken):
    # A primary key not named "id" (upstream #1593).
    id = None
    token_id = models.BigAutoField(primary_key=True)
    # The relations between tokens, under other reverse names than the package's.
    source_refresh_token = models.OneToOneField(
        to=oauth2_settings.REFRESH_TOKEN_MODEL,
        related_name="issued_token",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    id_token = models.OneToOneField(
        to=oauth2_settings.ID_TOKEN_MODEL,
        related_name="bearer_token",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
    )

    class Meta(AbstractAccessToken.Meta):
        db_table = "swapped_token"


class RenewalToken(AbstractRefreshToken):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    access_token = models.OneToOneField(
        to=oauth2_settings.ACCESS_TOKEN_MODEL,
        related_name="renewal",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )

    class Meta(AbstractRefreshToken.Meta):
        db_table = "swapped_renewal_token"


class AuthorizationCode(AbstractGrant):
    class Meta(AbstractGrant.Meta):
        db_table = "swapped_authorization_code"


class TokenUse(models.Model):
    """A project's audit row: goes with its access token."""

    token = models.ForeignKey(
        oauth2_settings.ACCESS_TOKEN_MODEL, on_delete=models.CASCADE, related_name="uses"
    )
    path = models.CharField(max_length=100)

    def __str__(self):
        return self.path


class TokenNote(models.Model):
    """A project's note that outlives its access token."""

    token = models.ForeignKey(
        oauth2_settings.ACCESS_TOKEN_MODEL, on_delete=models.SET_NULL, null=True, related_name="notes"
    )
    text = models.CharField(max_length=100)

    def __str__(self):
        return self.text
