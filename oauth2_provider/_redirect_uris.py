"""Matching the redirect URIs and origins of requests against those an application registered.

``oauth2_provider.models`` imports the two entry points, where DOT 3.0.1 defines them.
"""

from typing import NamedTuple
from urllib.parse import SplitResult, urlparse, urlsplit

from django.utils.translation import gettext_lazy as _

from .settings import oauth2_settings


class _RedirectURIParts(NamedTuple):
    """What redirect URI matching compares: the split URI, and whether it had a ``?``.

    ``https://client.example/cb?`` and ``https://client.example/cb`` have the same (empty) query
    but are different strings, so different redirect URIs.
    """

    parts: SplitResult
    has_query: bool


class UnmatchableRedirectURI(ValueError):
    """A URI that can never be a redirect URI; ``reason`` says why, for the application form."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def split_redirect_uri(uri):
    """``uri`` split for matching; raises ``UnmatchableRedirectURI`` when it can never be a redirect URI.

    A fragment never is (RFC 6749 section 3.1.2; a bare trailing ``#`` is an empty fragment, still
    a fragment), nor are credentials in the authority, nor a host or port that does not parse.
    ``urlsplit`` keeps ``;params`` in the path, so they are compared as part of it.
    """
    if "#" in uri:
        raise UnmatchableRedirectURI(_("it has a fragment"))
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise UnmatchableRedirectURI(_("its host does not parse")) from None
    try:
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number in range
    except ValueError:
        raise UnmatchableRedirectURI(_("its port is not a number from 0 to 65535")) from None
    if "@" in parts.netloc:
        raise UnmatchableRedirectURI(_("it has credentials"))
    # A "?" cannot occur in the scheme, authority or path: the first one opens the query.
    return _RedirectURIParts(parts, "?" in uri)


def _redirect_uri_parts(uri):
    """``uri`` split for matching, or None when it can never be a redirect URI."""
    try:
        return split_redirect_uri(uri)
    except UnmatchableRedirectURI:
        return None


def _is_loopback_without_port(parts):
    # RFC 8252 section 7.3: a native app may pick any port for an http loopback redirect URI.
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1") and parts.port is None


def _is_registered_uri(candidate, registered):
    """Whether ``candidate`` is the ``registered`` redirect URI (the loopback port aside)."""
    wanted, got = registered.parts, candidate.parts
    same_except_authority = (
        got.scheme == wanted.scheme
        and got.path == wanted.path
        and candidate.has_query == registered.has_query
        and got.query == wanted.query
    )
    if not same_except_authority:
        return False
    if got.netloc == wanted.netloc:
        return True
    return _is_loopback_without_port(wanted) and got.hostname == wanted.hostname


def redirect_to_uri_allowed(uri, allowed_uris):
    """Whether ``uri`` may be redirected to, given the registered ``allowed_uris``.

    The match is exact, as RFC 9700 section 2.1 requires (backported fix of upstream #1801): the
    same scheme, authority, path (``;params`` included) and query string, compared as strings, so
    no query parameter, path parameter, credentials or fragment can be added to a registered URI.
    The one exception is RFC 8252's: a registered http loopback URI (127.0.0.1 or [::1]) without
    a port accepts any port. The scheme is compared case-insensitively (``urlsplit`` lowercases it).
    """
    candidate = _redirect_uri_parts(uri)
    if candidate is None:
        return False
    for allowed in allowed_uris:
        registered = _redirect_uri_parts(allowed)
        if registered is not None and _is_registered_uri(candidate, registered):
            return True
    return False


def is_origin_allowed(origin, allowed_origins):
    """Whether ``origin`` (scheme and host[:port]) is in ``allowed_origins`` and uses an allowed scheme."""
    candidate = urlparse(origin)
    if candidate.scheme not in oauth2_settings.ALLOWED_SCHEMES:
        return False
    return any(
        (allowed.scheme, allowed.netloc) == (candidate.scheme, candidate.netloc)
        for allowed in map(urlparse, allowed_origins)
    )
