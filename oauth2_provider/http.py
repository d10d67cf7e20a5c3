from urllib.parse import urlsplit

from django.core.exceptions import DisallowedRedirect
from django.http import HttpResponse
from django.utils.encoding import iri_to_uri


class OAuth2ResponseRedirect(HttpResponse):
    """A 302 to a client's redirect URI, allowed only for the schemes the caller names.

    ``HttpResponseRedirect`` has a fixed scheme list (http, https, ftp); OAuth2 clients may
    register custom schemes (native apps), so the list comes from the application or the
    ``ALLOWED_REDIRECT_URI_SCHEMES`` setting instead.
    """

    status_code = 302

    def __init__(self, redirect_to, allowed_schemes, *args, **kwargs):
        self.allowed_schemes = allowed_schemes
        self.validate_redirect(redirect_to)
        super().__init__(*args, **kwargs)
        self["Location"] = iri_to_uri(redirect_to)

    @property
    def url(self):
        return self["Location"]

    def validate_redirect(self, redirect_to):
        """Raise ``DisallowedRedirect`` (a 400 for Django) unless the target's scheme is allowed."""
        try:
            scheme = urlsplit(str(redirect_to)).scheme
        except ValueError as exc:
            # For instance an unterminated IPv6 host: refuse it like a bad scheme, not as a 500.
            raise DisallowedRedirect(f"Cannot redirect to a malformed URI: {exc}") from exc
        if not scheme:
            raise DisallowedRedirect("OAuth2 redirects require a URI scheme.")
        if scheme not in self.allowed_schemes:
            raise DisallowedRedirect(f"Redirect to scheme {scheme!r} is not permitted")
