from django.contrib.auth import views as auth_views
from django.urls import include, path
from showcase import demo_accounts, views


urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(extra_context={"accounts": demo_accounts}),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Every endpoint of the package: authorize (with its consent page), token, revoke, introspect, the
    # application and token management pages, and OpenID Connect discovery, JWKS, UserInfo and logout.
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    # The demo's own client side of the authorization-code flow.
    path("try/", views.start_authorization, name="start-authorization"),
    path("callback/", views.callback, name="callback"),
    # Resources protected by access tokens.
    path("api/hello/", views.HelloView.as_view(), name="api-hello"),
    path("api/profile/", views.ProfileView.as_view(), name="api-profile"),
]
