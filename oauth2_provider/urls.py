"""URLs of the provider. Include them under a prefix of your choice: ``path("o/", include(...))``.

The pattern lists are public so that a project can mount only some of them, for instance the OAuth2
endpoints without the management pages.
"""

from django.urls import path, re_path

from . import views


app_name = "oauth2_provider"

# The OAuth2 protocol endpoints.
base_urlpatterns = [
    path("authorize/", views.AuthorizationView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke_token/", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", views.IntrospectTokenView.as_view(), name="introspect"),
]

# Pages where logged-in users manage their applications and the tokens issued to them.
management_urlpatterns = [
    path("applications/", views.ApplicationList.as_view(), name="list"),
    path("applications/register/", views.ApplicationRegistration.as_view(), name="register"),
    path("applications/<slug:pk>/", views.ApplicationDetail.as_view(), name="detail"),
    path("applications/<slug:pk>/delete/", views.ApplicationDelete.as_view(), name="delete"),
    path("applications/<slug:pk>/update/", views.ApplicationUpdate.as_view(), name="update"),
    path("authorized_tokens/", views.AuthorizedTokensListView.as_view(), name="authorized-token-list"),
    path(
        "authorized_tokens/<slug:pk>/delete/",
        views.AuthorizedTokenDeleteView.as_view(),
        name="authorized-token-delete",
    ),
]

# OpenID Connect endpoints.
oidc_urlpatterns = [
    # OpenID Connect Discovery names the path without a trailing slash; the slashed form is still accepted
    # because earlier releases served it there.
    re_path(
        r"^\.well-known/openid-configuration/?$",
        views.ConnectDiscoveryInfoView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(".well-known/jwks.json", views.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", views.UserInfoView.as_view(), name="user-info"),
    path("logout/", views.RPInitiatedLogoutView.as_view(), name="rp-initiated-logout"),
]

urlpatterns = base_urlpatterns + management_urlpatterns + oidc_urlpatterns
