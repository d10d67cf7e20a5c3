import functools
import zoneinfo

from django.conf import settings
from jwcrypto import jwk


@functools.lru_cache
def jwk_from_pem(pem_string):
    """The JWK for a PEM key; parsing a large RSA key is slow, so each key is parsed once."""
    return jwk.JWK.from_pem(pem_string.encode("utf-8"))


def get_timezone(time_zone):
    """The tzinfo named ``time_zone`` (a pytz zone when the project still sets ``USE_DEPRECATED_PYTZ``)."""
    if getattr(settings, "USE_DEPRECATED_PYTZ", False):
        import pytz

        return pytz.timezone(time_zone)
    return zoneinfo.ZoneInfo(time_zone)
