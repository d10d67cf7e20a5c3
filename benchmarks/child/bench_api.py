"""Child of ``python -m benchmarks api``: serve two protected views in-process and time requests to them.

Run as ``python -m bench_api`` with ``DJANGO_SETTINGS_MODULE=bench_settings`` on a database the parent
migrated and filled. Like bench_settings.py it must work with our package and with every upstream release,
so it uses only their common public API. Configured by environment variables:

- ``BENCH_API_REQUESTS``: timed requests per (view, token) pair, after a short warm-up;
- ``BENCH_API_TOKENS``: JSON object, token kind -> bearer token string;
- ``BENCH_API_RESULT``: path of the JSON file the measurements are written to.

This module is also the URLconf: ``main()`` fills ``urlpatterns`` once Django is set up.
"""

import json
import os
import sys

from bench_timing import timed_requests


WARMUP_REQUESTS = 50
REQUIRED_SCOPE = "read"

urlpatterns = []


def build_urlpatterns():
    """A ``ProtectedResourceView`` and a DRF view with ``OAuth2Authentication`` and ``TokenHasScope``."""
    from django.http import HttpResponse
    from django.urls import path
    from rest_framework.permissions import IsAuthenticated
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
    from oauth2_provider.views.generic import ProtectedResourceView

    class Protected(ProtectedResourceView):
        def get(self, request):
            return HttpResponse(f"hello {request.resource_owner.pk}")

    class DRFScoped(APIView):
        authentication_classes = [OAuth2Authentication]
        permission_classes = [IsAuthenticated, TokenHasScope]
        required_scopes = [REQUIRED_SCOPE]

        def get(self, request):
            return Response({"user": request.user.pk})

    return [path("protected/", Protected.as_view()), path("drf/", DRFScoped.as_view())]


VIEWS = {"protected": "/protected/", "drf": "/drf/"}


def measure(client, url, token, requests):
    """Statuses seen, seconds and statements of ``requests`` GETs of ``url`` with ``token``, after a
    warm-up."""
    authorization = f"Bearer {token}"

    def request():
        return client.get(url, HTTP_AUTHORIZATION=authorization)

    for _ in range(WARMUP_REQUESTS):
        request()
    return timed_requests(request, requests)


def main():
    import django
    from django.conf import settings

    django.setup()
    settings.ROOT_URLCONF = __name__
    settings.ALLOWED_HOSTS = ["testserver"]
    urlpatterns.extend(build_urlpatterns())

    from django.test import Client

    requests = int(os.environ["BENCH_API_REQUESTS"])
    tokens = json.loads(os.environ["BENCH_API_TOKENS"])
    client = Client()
    cells = [
        {"view": view, "token": kind, "requests": requests, **measure(client, url, token, requests)}
        for view, url in VIEWS.items()
        for kind, token in tokens.items()
    ]
    with open(os.environ["BENCH_API_RESULT"], "w") as file:
        json.dump(cells, file, indent=1)
    for cell in cells:
        print(cell, file=sys.stderr)


if __name__ == "__main__":
    main()
