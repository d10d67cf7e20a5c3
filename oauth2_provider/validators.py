import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.encoding import force_str


class URIValidator(URLValidator):
    """A URL validator that also accepts custom schemes (``myapp://``), dotless and underscored host names."""

    scheme_re = r"^(?:[a-z][a-z0-9\.\-\+]*)://"
    # Host names Django's URLValidator refuses but deployments use: dotless (``intranet``) and with
    # underscores (``my_service``, as Docker Compose names its services). No label starts or ends with "-".
    dotless_domain_re = r"(?!-)[A-Z\d_-]{1,63}(?<!-)"
    host_re = (
        "(?:"
        + "|".join(
            (
                URLValidator.host_re,
                URLValidator.ipv4_re,
                URLValidator.ipv6_re,
                rf"{dotless_domain_re}(?:\.{dotless_domain_re})*\.?",
            )
        )
        + ")"
    )
    # "user:password@", as Django's URLValidator reads it: then the host is what follows the "@".
    userinfo_re = r"(?:[^\s:@/]+(?::[^\s:@/]*)?@)?"
    port_re = r"(?::\d{2,5})?"
    path_re = r"(?:[/?#][^\s]*)?"
    # Anchored at both ends: a valid prefix followed by anything else is no URI.
    regex = re.compile(scheme_re + userinfo_re + host_re + port_re + path_re + r"\Z", re.IGNORECASE)


# Schemes whose URIs always have an authority (WHATWG URL's "special" schemes): browsers read
# "https:/host" as "https://host/", so such a URI without "//" would not name what is redirected to.
_SCHEMES_WITH_AUTHORITY = frozenset({"http", "https", "ws", "wss", "ftp", "file"})


def _private_use_uri_problem(value, parts):
    """Why ``value`` (a private-use scheme, no authority) is no RFC 8252 section 7.1 redirect URI, or None.

    A private-use scheme redirect has no authority and an absolute path, one slash after the scheme:
    ``com.example.app:/oauth2redirect``. ``scheme:path`` and ``scheme:///path`` are other spellings that
    exact matching (RFC 9700 section 2.1) would not tell apart from it, so they are refused.
    """
    after_scheme = value[len(parts.scheme) + 1 :]
    if not after_scheme.startswith("/") or after_scheme.startswith("//"):
        return "private-use URIs have one slash after the scheme"
    if any(character.isspace() for character in value):
        return "whitespace not allowed"
    return None


class AllowedURIValidator(URIValidator):
    """Validates a URI against allowed schemes, and whether it may carry a path, query or fragment.

    ``name`` says what the URI is for ("redirect uri", "allowed origin") in the error message. Where
    paths are allowed, a private-use URI of RFC 8252 section 7.1 (``com.example.app:/callback``, no
    authority) is accepted too.
    """

    def __init__(self, schemes, name, allow_path=False, allow_query=False, allow_fragments=False):
        super().__init__(schemes=schemes)
        self.name = name
        self.allow_path = allow_path
        self.allow_query = allow_query
        self.allow_fragments = allow_fragments

    def _error(self, value, cause, template="%(name)s URI validation error. %(cause)s: %(value)s"):
        return ValidationError(template, params={"name": self.name, "value": value, "cause": cause})

    def __call__(self, value):
        value = force_str(value)
        try:
            parts = urlsplit(value)
        except ValueError as exc:
            raise self._error(value, exc) from exc

        if parts.scheme not in self.schemes:
            # Upstream compatibility: capitalised differently from the other messages, as in DOT 3.0.1.
            raise self._error(value, "invalid_scheme", "%(name)s URI Validation error. %(cause)s: %(value)s")
        # The delimiters count, not only what follows them: urlsplit gives "https://x/cb#" an empty
        # fragment, and "https://x?" an empty query, as if they had none.
        before_fragment, has_fragment, _ = value.partition("#")
        refused = (
            ("?" in before_fragment and not self.allow_query, "query string not allowed"),
            (has_fragment and not self.allow_fragments, "fragment not allowed"),
            (parts.path and not self.allow_path, "path not allowed"),
        )
        for is_refused, cause in refused:
            if is_refused:
                raise self._error(value, cause)

        if not parts.netloc and self.allow_path and parts.scheme not in _SCHEMES_WITH_AUTHORITY:
            problem = _private_use_uri_problem(value, parts)
            if problem is not None:
                raise self._error(value, problem)
            return
        try:
            super().__call__(value)
        except ValidationError as exc:
            raise self._error(value, exc) from exc
