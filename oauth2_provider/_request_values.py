"""Checks and decoding of untrusted request values, for ``OAuth2Validator``.

Everything here answers "unusable" instead of raising: the validator must turn bad client input into an
OAuth2 error, never into a server error.
"""

import base64
import logging
import traceback
from urllib.parse import unquote_plus

from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables
from oauthlib import common as oauthlib_common


log = logging.getLogger("oauth2_provider")

# The most client ids of an ``aud`` claim that are looked up. Our ID tokens name one client; the cap keeps
# a forged token from turning into a query with thousands of parameters.
MAX_AUDIENCES = 32


def is_unparsable_request_error(error):
    """Whether the ``ValueError`` ``error`` comes from oauthlib failing to parse the request.

    oauthlib raises a bare ``ValueError`` from ``oauthlib.common`` (where it builds its request and
    decodes the query), deep inside an endpoint, for a broken percent-escape (``%zz``) or characters that
    are not form-encoded: the client's fault. The traceback, not the message, tells it apart from a
    ``ValueError`` with any other cause, a bug that must not be disguised as bad input.
    """
    return any(
        frame.filename == oauthlib_common.__file__ for frame in traceback.extract_tb(error.__traceback__)
    )


def is_lookup_safe(value):
    """Whether ``value`` is text that every supported database can compare with a column.

    PostgreSQL rejects a NUL character in a query parameter with an error, so such a value can only be
    answered "not found", before it reaches the database.
    """
    return isinstance(value, str) and "\x00" not in value


# Base64 hides nothing: the encoded credentials are as secret as the decoded ones.
@sensitive_variables("encoded", "raw", "decoded", "client_secret")
def decode_basic_credentials(encoded, encoding):
    """``(client_id, client_secret)`` from the base64 part of a Basic header, None when malformed.

    RFC 6749 section 2.3.1 has the client form-urlencode both values before joining them with a colon,
    so the split happens on the first colon and each half is unquoted afterwards. Decoding is as lenient
    as base64.b64decode's default (characters outside the alphabet are dropped), as in DOT 3.0.1.
    """
    # The exceptions are not logged: a UnicodeDecodeError quotes a byte of the credentials (upstream #1735).
    try:
        raw = base64.b64decode(encoded)
    except ValueError:  # binascii.Error
        log.debug("Basic auth rejected: the credentials can't be decoded as base64")
        return None
    try:
        decoded = raw.decode(encoding)
    except (ValueError, LookupError):  # UnicodeDecodeError, or an unknown encoding
        log.debug("Basic auth rejected: the credentials can't be decoded as unicode (%s)", encoding)
        return None
    client_id, colon, client_secret = decoded.partition(":")
    if not colon:
        log.debug("Basic auth rejected: no colon between client id and secret")
        return None
    return unquote_plus(client_id), unquote_plus(client_secret)


def http_request_for_authentication(request):
    """A Django ``HttpRequest`` carrying what an authentication backend may look at in ``request``.

    ``django.contrib.auth.authenticate`` hands its request to the backends; some of them (rate limiters,
    audit logs) read the path, the method, the headers or the submitted form.
    """
    http_request = HttpRequest()
    http_request.META = request.headers
    http_request.method, http_request.path = request.http_method, request.uri
    # The submitted parameters go where Django would have put them; only GET and POST have a place.
    if request.http_method in ("GET", "POST") and request.decoded_body:
        getattr(http_request, request.http_method).update(dict(request.decoded_body))
    return http_request


def audience_client_ids(audience):
    """The client ids an ``aud`` claim names: one string or a list of them; anything else names nobody."""
    if isinstance(audience, str):
        audience = [audience]
    elif not isinstance(audience, list):
        return []
    return [client_id for client_id in audience[:MAX_AUDIENCES] if is_lookup_safe(client_id)]


def sole_audience(audience):
    """The client id of an ``aud`` claim naming exactly one client (a string or a one-item list), else None.

    Our ID tokens name one client. A list of several would let a token verified with one application's
    key claim to be about others as well.
    """
    if isinstance(audience, list) and len(audience) == 1:
        audience = audience[0]
    return audience if isinstance(audience, str) and is_lookup_safe(audience) else None
