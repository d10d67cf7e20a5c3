"""Class-based views that answer only requests carrying valid OAuth2 credentials.

Subclass one and write ``get``/``post``/... as for any Django ``View``: the mixins check the credentials in
``dispatch`` before the handler runs and answer 403 when they do not pass; OPTIONS requests (CORS preflight)
pass unchecked. When a bearer token let the request in, the handler finds its owner in
``request.resource_owner``.
"""

from django.views.generic import View

from .mixins import (
    ClientProtectedResourceMixin,
    ProtectedResourceMixin,
    ReadWriteScopedResourceMixin,
    ScopedResourceMixin,
)


class ProtectedResourceView(ProtectedResourceMixin, View):
    """A view that requires a valid bearer token (any scope will do)."""


class ScopedProtectedResourceView(ScopedResourceMixin, ProtectedResourceView):
    """A view that requires a valid bearer token granting every scope of ``required_scopes``."""


class ReadWriteScopedResourceView(ReadWriteScopedResourceMixin, ProtectedResourceView):
    """A view that requires the read scope for safe methods (GET, HEAD, OPTIONS), the write scope otherwise.

    ``required_scopes``, when set, are required on top of that one.
    """


class ClientProtectedResourceView(ClientProtectedResourceMixin, View):
    """A view for clients rather than users: the client authenticates with its own credentials (HTTP Basic
    or in the request body), or else with a valid bearer token."""


class ClientProtectedScopedResourceView(ScopedResourceMixin, ClientProtectedResourceView):
    """``ClientProtectedResourceView`` whose bearer-token fallback also requires ``required_scopes``."""
