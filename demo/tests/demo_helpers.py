"""What the demo tests share: the documented demo credentials, PKCE, and reading a page's form."""

import base64
import hashlib
import secrets
from html.parser import HTMLParser


# The fixed demo credentials, as demo/showcase/demo_accounts.py defines them and the README shows them.
USERNAME, PASSWORD = "demo", "demo-password"
WEB_CLIENT = ("demo-web-app", "demo-web-app-secret-DEMO-ONLY")
SERVICE_CLIENT = ("demo-service", "demo-service-secret-DEMO-ONLY")


def pkce_pair():
    """A fresh ``(code_verifier, S256 code_challenge)`` (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class _FormFields(HTMLParser):
    """Collects the named ``<input>`` values of the first ``<form method="post">`` of a page."""

    def __init__(self):
        super().__init__()
        self.fields = {}
        self._state = "before"

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self._state == "before" and attrs.get("method", "").lower() == "post":
            self._state = "inside"
        elif tag == "input" and self._state == "inside" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form" and self._state == "inside":
            self._state = "after"


def post_form_fields(html):
    """The named input values of the page's first POST form: its CSRF token and hidden fields included."""
    parser = _FormFields()
    parser.feed(html)
    return parser.fields
