"""The provider under /o/ and one protected resource, for the read-replica tests."""

from django.http import JsonResponse
from django.urls import include, path

from oauth2_provider.views.generic import ProtectedResourceView


class Resource(ProtectedResourceView):
    def get(self, request):
        return JsonResponse({"user": request.resource_owner.pk if request.resource_owner else None})


urlpatterns = [
    path("o/", include("oauth2_provider.urls")),
    path("resource/", Resource.as_view(), name="resource"),
]
