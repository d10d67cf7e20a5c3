"""URLs for the end-to-end flow tests: the provider under /o/, as DOT's documentation mounts it.

``/o-json/token/`` is a token endpoint reading JSON bodies (``JSONOAuthLibCore``), for the malformed-body
tests.
"""

from django.urls import include, path

from oauth2_provider.oauth2_backends import JSONOAuthLibCore
from oauth2_provider.views import TokenView


class JSONTokenView(TokenView):
    oauthlib_backend_class = JSONOAuthLibCore


urlpatterns = [
    path("o/", include("oauth2_provider.urls")),
    path("o-json/token/", JSONTokenView.as_view(), name="json-token"),
]
