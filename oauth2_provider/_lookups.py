"""Rows found by values that arrive in requests: access tokens by their value, applications by client id.

The values are untrusted. An access token is found through its checksum only (one indexed query whatever
the token looks like); a client id that the database could not compare (see ``is_lookup_safe``) finds
nothing instead of reaching the database.
"""

from ._checksum import token_checksum
from ._request_values import is_lookup_safe
from .models import get_access_token_model, get_application_model


def access_token_with_value(value):
    """The AccessToken whose token is ``value``, its application and user fetched with it, or None."""
    if not isinstance(value, str):
        return None
    access_tokens = get_access_token_model().objects.select_related("application", "user")
    return access_tokens.filter(token_checksum=token_checksum(value)).first()


def application_with_client_id(client_id):
    """The application with this client id, or None."""
    # Upstream compatibility: a missing client id (None) still costs the query that finds nothing, as in
    # DOT 3.0.1's validator, whose test suite counts it.
    if client_id is not None and not is_lookup_safe(client_id):
        return None
    return get_application_model().objects.filter(client_id=client_id).first()
