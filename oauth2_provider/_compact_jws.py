"""The one shape of signed JWT this provider accepts: a compact JWS (RFC 7515 section 7.1)."""

import re


# Three base64url parts, none empty: header, payload and signature. Unsigned tokens have no signature.
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def is_compact_jws(value):
    """Whether ``value`` is a compact JWS, by shape alone (nothing is decoded or verified).

    jwcrypto's parsers also take the JSON serializations of JWS and JWE, and a compact JWE, where a JWT
    is expected. An ID token we issue is always compact and signed, so anything else is refused before
    it reaches them: the less of a parser a stranger's input reaches, the less it can exploit.
    """
    return isinstance(value, str) and _COMPACT_JWS.fullmatch(value) is not None
