"""Rows found by values that arrive in requests: access tokens by their value, applications by client id;
and the access tokens the token endpoint issues, recorded so that it need not look them up again.

The values are untrusted. An access token is found through its checksum only (one indexed query whatever
the token looks like); a client id that the database could not compare (see ``is_lookup_safe``) finds
nothing instead of reaching the database.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import router

from ._checksum import token_checksum
from ._request_values import is_lookup_safe
from .models import get_access_token_model, get_application_model


def rows_read_after_writes(queryset, limit):
    """Up to ``limit`` rows of ``queryset``, read where the database router reads.

    When none is found there and the router writes elsewhere, they are read again where it writes: a
    token, grant or application the provider has just written may not have reached a lagging read replica
    yet, and the next request of the client that received it must find it. Only misses pay for this: a
    site whose replicas are in step, or that has no router, sends one query as before.
    """
    rows = list(queryset[:limit])
    if not rows:
        primary = router.db_for_write(queryset.model)
        if primary != queryset.db:
            rows = list(queryset.using(primary)[:limit])
    return rows


def unique_row(queryset):
    """The row of ``queryset``, filtered on a unique key, or None (read after writes, see above).

    Not ``first()``: its ORDER BY on the primary key orders at most one row, and compiling it costs as
    much Python time as the rest of a small query.
    """
    return next(iter(rows_read_after_writes(queryset, 1)), None)


def access_token_with_value(value, related=("application", "user"), only=()):
    """The AccessToken whose token is ``value``, the ``related`` rows fetched with it, or None.

    ``only``, when given, names the fields to load (``QuerySet.only``); any other loads when first read,
    in a query of its own. Loading fewer columns is what makes a lookup cheap: compiling the SELECT and
    building the instances costs more Python time per column than the database takes to send it.
    """
    if not isinstance(value, str):
        return None
    access_tokens = get_access_token_model().objects.select_related(*related)
    if only:
        access_tokens = access_tokens.only(*only)
    return unique_row(access_tokens.filter(token_checksum=token_checksum(value)))


def application_with_client_id(client_id):
    """The application with this client id, or None."""
    # Upstream compatibility: a missing client id (None) still costs the query that finds nothing, as in
    # DOT 3.0.1's validator, whose test suite counts it.
    if client_id is not None and not is_lookup_safe(client_id):
        return None
    return unique_row(get_application_model().objects.filter(client_id=client_id))


# The access tokens the validator creates while the token endpoint answers one request (see
# ``recording_issued_access_tokens``); None outside of one.
_issued_access_tokens = ContextVar("oauth2_provider_issued_access_tokens", default=None)


@contextmanager
def recording_issued_access_tokens():
    """Collect, in the list it yields, the access tokens ``record_issued_access_token`` is given inside.

    The token endpoint announces the token it issued with the ``app_authorized`` signal but only sees
    oauthlib's JSON answer: the recorded instance saves loading back the row just written. A context
    variable, so that concurrent requests (threads, asyncio tasks) each see their own.
    """
    issued = []
    reset = _issued_access_tokens.set(issued)
    try:
        yield issued
    finally:
        _issued_access_tokens.reset(reset)


def record_issued_access_token(access_token):
    """Remember ``access_token`` for the token endpoint request being answered, if there is one."""
    issued = _issued_access_tokens.get()
    if issued is not None:
        issued.append(access_token)


def issued_access_token(issued, value):
    """The access token ``value``: one of the recorded ``issued`` ones, else looked up.

    The lookup covers tokens issued without a record, by a validator subclass that saves them its own
    way or when an answer repeats tokens issued before (a refresh within the grace period).
    """
    for access_token in issued:
        if access_token.token == value:
            return access_token
    return access_token_with_value(value)
