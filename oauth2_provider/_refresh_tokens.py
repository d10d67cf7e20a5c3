"""Refresh token policy shared by the validator, the views and ``cleartokens``.

How long a refresh token lives (``REFRESH_TOKEN_EXPIRE_SECONDS``) and may be replayed after rotation
(``REFRESH_TOKEN_GRACE_PERIOD_SECONDS``), and revoking an access token together with the refresh token
issued beside it. Revoking a whole token family is ``AbstractRefreshToken._revoke_family``.
"""

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from .settings import oauth2_settings


def refresh_token_lifetime():
    """``REFRESH_TOKEN_EXPIRE_SECONDS`` as a timedelta; None when unset or zero (tokens never expire).

    A value that is neither seconds nor a timedelta, or a negative one, is ImproperlyConfigured: the
    token endpoint and ``cleartokens`` refuse it the same way instead of failing on arithmetic.
    """
    lifetime = oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS
    if not lifetime:
        return None
    if not isinstance(lifetime, timedelta):
        try:
            lifetime = timedelta(seconds=lifetime)
        except (TypeError, OverflowError) as exc:
            raise ImproperlyConfigured(
                "REFRESH_TOKEN_EXPIRE_SECONDS must be either a timedelta or seconds"
            ) from exc
    if lifetime < timedelta(0):
        raise ImproperlyConfigured("REFRESH_TOKEN_EXPIRE_SECONDS must not be negative")
    return lifetime


def refresh_token_grace_period():
    """``REFRESH_TOKEN_GRACE_PERIOD_SECONDS`` as a timedelta (unset or 0: none); ImproperlyConfigured when
    not a number of seconds >= 0."""
    try:
        grace_period = timedelta(seconds=oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS or 0)
    except (TypeError, OverflowError) as exc:
        raise ImproperlyConfigured("REFRESH_TOKEN_GRACE_PERIOD_SECONDS must be in seconds") from exc
    if grace_period < timedelta(0):
        raise ImproperlyConfigured("REFRESH_TOKEN_GRACE_PERIOD_SECONDS must not be negative")
    return grace_period


def is_past_lifetime(refresh_token):
    """Whether a live refresh token may no longer be used.

    One without an access token is: its access token was revoked or deleted, and the refresh token must
    not bring it back. Otherwise its lifetime runs from the expiry of its access token, the moment the
    client last needed it, as ``cleartokens`` judges it; ``expires`` moves forward on every refresh.
    """
    if refresh_token.access_token_id is None:
        return True
    lifetime = refresh_token_lifetime()
    return lifetime is not None and refresh_token.access_token.expires + lifetime <= timezone.now()


def refresh_token_accessor(refresh_token_model):
    """The name under which an access token reaches its refresh token, or None.

    As shipped, ``RefreshToken.access_token`` is one-to-one, so the access token has one reverse accessor
    (``refresh_token``) that ``select_related`` can fetch in the access token's own query. A swapped model
    may name it differently, or make the field a plain foreign key, which has no such accessor.
    """
    field = refresh_token_model._meta.get_field("access_token")
    return field.remote_field.get_accessor_name() if field.one_to_one else None


def revoke_access_token(access_token, refresh_token_model):
    """Revoke ``access_token`` and the live refresh token issued beside it (RFC 7009 section 2.1).

    Deleting the access token alone leaves that refresh token able to get a new one at once. Revoking the
    refresh token revokes its access token too. The refresh token costs no query when the access token
    was loaded with ``select_related(refresh_token_accessor(...))``, one otherwise.
    """
    accessor = refresh_token_accessor(refresh_token_model)
    if accessor is None:
        live = refresh_token_model.objects.filter(access_token=access_token, revoked__isnull=True)
        refresh_token = live.first()
    else:
        refresh_token = getattr(access_token, accessor, None)
    if refresh_token is None or refresh_token.revoked is not None:
        access_token.revoke()
    else:
        refresh_token.revoke()
