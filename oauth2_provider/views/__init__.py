"""Every view of the provider, importable from ``oauth2_provider.views`` as in django-oauth-toolkit."""

from .application import (
    ApplicationDelete,
    ApplicationDetail,
    ApplicationList,
    ApplicationRegistration,
    ApplicationUpdate,
)
from .base import AuthorizationView, RevokeTokenView, TokenView
from .generic import (
    ClientProtectedResourceView,
    ClientProtectedScopedResourceView,
    ProtectedResourceView,
    ReadWriteScopedResourceView,
    ScopedProtectedResourceView,
)
from .introspect import IntrospectTokenView
from .oidc import ConnectDiscoveryInfoView, JwksInfoView, RPInitiatedLogoutView, UserInfoView
from .token import AuthorizedTokenDeleteView, AuthorizedTokensListView


__all__ = [
    # OAuth2 endpoints
    "AuthorizationView",
    "TokenView",
    "RevokeTokenView",
    "IntrospectTokenView",
    # application management
    "ApplicationDelete",
    "ApplicationDetail",
    "ApplicationList",
    "ApplicationRegistration",
    "ApplicationUpdate",
    # the user's authorized tokens
    "AuthorizedTokenDeleteView",
    "AuthorizedTokensListView",
    # building blocks for protected resources
    "ClientProtectedResourceView",
    "ClientProtectedScopedResourceView",
    "ProtectedResourceView",
    "ReadWriteScopedResourceView",
    "ScopedProtectedResourceView",
    # OpenID Connect
    "ConnectDiscoveryInfoView",
    "JwksInfoView",
    "RPInitiatedLogoutView",
    "UserInfoView",
]
