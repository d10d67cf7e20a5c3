"""Child of ``python -m benchmarks endpoints``: time the endpoints that issue and manage tokens.

Run as ``python -m bench_endpoints`` on a fresh copy of a database the parent migrated, one child per
contender and endpoint, all of one endpoint alive at once. It creates its own user, applications, codes and
tokens through the models (untimed), then serves ``oauth2_provider.urls`` in-process through Django's test
client. Like bench_settings.py it must work with our package and with every upstream release, so it uses
only their common public API. Configured by environment variables:

- ``BENCH_ENDPOINTS_REQUESTS``: the timed requests the parent will ask for in all (their codes and tokens
  are made beforehand);
- ``BENCH_ENDPOINTS_SECRET``: how the client secrets are stored: ``clear`` (``hash_client_secret=False``),
  ``pbkdf2`` (Django's default hasher) or ``fast`` (one PBKDF2 iteration, ``bench_hashers.py``);
- ``BENCH_ENDPOINTS_ENDPOINT``: the endpoint to time, a key of ``ENDPOINTS``.

The conversation with the parent, one line each way, JSON answers on the standard output (everything else
the child prints goes to its log, the standard error): after the fixtures and a short warm-up it says
``{"ready": ...}``; then each ``run N`` line from the parent times N requests and answers with their
statuses, wall and CPU seconds and SQL statements; ``quit`` (or the end of its input) ends it. The parent
alternates the contenders' children every few requests, so that the machine's speed, which drifts on a
shared host, is the same for all of them.

This module is also the URLconf: ``main()`` fills ``urlpatterns`` once Django is set up.
"""

import base64
import hashlib
import json
import os
import secrets
import sys
from datetime import timedelta
from urllib.parse import urlencode

from bench_timing import timed_requests
from django.urls import reverse


WARMUP_REQUESTS = 20
REDIRECT_URI = "https://client.example/callback"
OWNER_PASSWORD = "bench-owner-password"
# Stored by make_password with these hashers; ``clear`` stores the secret as it is.
SECRET_HASHERS = {"clear": None, "pbkdf2": "pbkdf2_sha256", "fast": "bench_fast_pbkdf2"}

urlpatterns = []


def build_urlpatterns():
    from django.urls import include, path

    return [path("o/", include("oauth2_provider.urls"))]


def form_post(client, url, data, **extra):
    """POST ``data`` as ``application/x-www-form-urlencoded``, as OAuth2 clients and browsers send it (the
    test client's default, multipart, would add a parser neither meets in practice)."""
    return client.post(url, urlencode(data), content_type="application/x-www-form-urlencoded", **extra)


def basic_auth(application, secret):
    pair = f"{application.client_id}:{secret}".encode()
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(pair).decode("ascii")}


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class Fixtures:
    """The rows every endpoint needs, made with the models before anything is timed.

    ``per_endpoint`` is how many requests the endpoint will get (warm-up included): an endpoint that
    consumes something (a code, a token to revoke) gets that many of them.
    """

    def __init__(self, secret_mode, per_endpoint):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.hashers import make_password
        from django.utils import timezone

        from oauth2_provider.models import get_access_token_model, get_application_model

        self.Application = get_application_model()
        self.AccessToken = get_access_token_model()
        self.now = timezone.now()
        self.secret = secrets.token_urlsafe(48)
        hasher = SECRET_HASHERS[secret_mode]
        self.stored_secret = self.secret if hasher is None else make_password(self.secret, hasher=hasher)
        self.hash_client_secret = hasher is not None
        # The owner's password takes the cheap hasher whatever the mode (it is first in PASSWORD_HASHERS,
        # so that a login does not upgrade it): the password grant times the package, not Django's PBKDF2.
        self.user = get_user_model().objects.create(
            username="bench-owner", password=make_password(OWNER_PASSWORD, hasher="bench_fast_pbkdf2")
        )
        self.service = self.application("service", self.Application.GRANT_CLIENT_CREDENTIALS)
        self.password_app = self.application("password", self.Application.GRANT_PASSWORD)
        self.code_app = self.application("code", self.Application.GRANT_AUTHORIZATION_CODE, REDIRECT_URI)
        self.verifier, self.challenge = pkce_pair()
        self.per_endpoint = per_endpoint

    def application(self, name, grant_type, redirect_uris=""):
        return self.Application.objects.create(
            name=f"bench {name}",
            user=self.user,
            client_type=self.Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=grant_type,
            redirect_uris=redirect_uris,
            client_secret=self.stored_secret,
            hash_client_secret=self.hash_client_secret,
        )

    def access_tokens(self, count, application, user, scope):
        """``count`` new access tokens, valid for an hour.

        Saved one by one, not with bulk_create: each package computes its ``token_checksum`` on save().
        """
        expires = self.now + timedelta(hours=1)
        return [
            self.AccessToken.objects.create(
                token=f"bench-{application.pk}-{secrets.token_urlsafe(24)}",
                expires=expires,
                user=user,
                application=application,
                scope=scope,
            )
            for _ in range(count)
        ]

    def codes(self, count):
        """``count`` authorization codes of the code application, with a PKCE S256 challenge."""
        from oauth2_provider.models import get_grant_model

        Grant = get_grant_model()
        values = [f"bench-code-{secrets.token_urlsafe(24)}" for _ in range(count)]
        Grant.objects.bulk_create(
            Grant(
                user=self.user,
                application=self.code_app,
                code=value,
                expires=self.now + timedelta(hours=1),
                redirect_uri=REDIRECT_URI,
                scope="read write",
                code_challenge=self.challenge,
                code_challenge_method="S256",
            )
            for value in values
        )
        return values

    def refresh_token(self):
        from oauth2_provider.models import get_refresh_token_model

        [access] = self.access_tokens(1, self.code_app, self.user, "read write")
        value = f"bench-refresh-{secrets.token_urlsafe(24)}"
        get_refresh_token_model().objects.create(
            user=self.user, application=self.code_app, token=value, access_token=access
        )
        return value


def authorization_query(fixtures):
    return {
        "response_type": "code",
        "client_id": fixtures.code_app.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "read write",
        "state": "bench-state",
        "code_challenge": fixtures.challenge,
        "code_challenge_method": "S256",
    }


# Builders of the endpoints' requests. Each takes the fixtures and returns a function that makes one
# request with a test client and returns the response; the ones that consume a code or a token make
# their supply first and draw the next one on each call.


def client_credentials(fixtures):
    url, auth = reverse("oauth2_provider:token"), basic_auth(fixtures.service, fixtures.secret)
    return lambda client: form_post(
        client, url, {"grant_type": "client_credentials", "scope": "read"}, **auth
    )


def password(fixtures):
    url, auth = reverse("oauth2_provider:token"), basic_auth(fixtures.password_app, fixtures.secret)
    data = {"grant_type": "password", "username": fixtures.user.username, "password": OWNER_PASSWORD}
    return lambda client: form_post(client, url, data, **auth)


def authorization_code(fixtures):
    url, auth = reverse("oauth2_provider:token"), basic_auth(fixtures.code_app, fixtures.secret)
    codes = iter(fixtures.codes(fixtures.per_endpoint))

    def exchange(client):
        data = {
            "grant_type": "authorization_code",
            "code": next(codes),
            "redirect_uri": REDIRECT_URI,
            "code_verifier": fixtures.verifier,
        }
        return form_post(client, url, data, **auth)

    return exchange


def refresh_token(fixtures):
    """Each request refreshes with the refresh token the previous one got (rotation is on by default)."""
    url, auth = reverse("oauth2_provider:token"), basic_auth(fixtures.code_app, fixtures.secret)
    latest = [fixtures.refresh_token()]

    def refresh(client):
        response = form_post(client, url, {"grant_type": "refresh_token", "refresh_token": latest[0]}, **auth)
        if response.status_code == 200:
            latest[0] = response.json()["refresh_token"]
        return response

    return refresh


def introspect(fixtures):
    url, auth = reverse("oauth2_provider:introspect"), basic_auth(fixtures.service, fixtures.secret)
    [token] = fixtures.access_tokens(1, fixtures.code_app, fixtures.user, "read")
    return lambda client: form_post(client, url, {"token": token.token}, **auth)


def revoke(fixtures):
    url, auth = reverse("oauth2_provider:revoke-token"), basic_auth(fixtures.service, fixtures.secret)
    tokens = iter(fixtures.access_tokens(fixtures.per_endpoint, fixtures.service, None, "read"))
    return lambda client: form_post(
        client, url, {"token": next(tokens).token, "token_type_hint": "access_token"}, **auth
    )


def userinfo(fixtures):
    url = reverse("oauth2_provider:user-info")
    [token] = fixtures.access_tokens(1, fixtures.code_app, fixtures.user, "openid")
    return lambda client: client.get(url, HTTP_AUTHORIZATION=f"Bearer {token.token}")


def consent(fixtures):
    url, query = reverse("oauth2_provider:authorize"), authorization_query(fixtures)
    return lambda client: client.get(url, query)


def approve(fixtures):
    url, data = reverse("oauth2_provider:authorize"), {**authorization_query(fixtures), "allow": "Authorize"}
    return lambda client: form_post(client, url, data)


# Endpoint name -> (expected status, request builder, whether the user must be signed in).
ENDPOINTS = {
    "client_credentials": (200, client_credentials, False),
    "password": (200, password, False),
    "authorization_code": (200, authorization_code, False),
    "refresh_token": (200, refresh_token, False),
    "introspect": (200, introspect, False),
    "revoke": (200, revoke, False),
    "userinfo": (200, userinfo, False),
    "consent": (200, consent, True),
    "approve": (302, approve, True),
}


def warm_up(request, client):
    for _ in range(WARMUP_REQUESTS):
        request(client)


def answer_commands(commands, answers, request, client):
    """Serve the parent's ``run N`` lines until ``quit`` or the end of ``commands``."""
    for line in commands:
        command, _, argument = line.strip().partition(" ")
        if command == "quit":
            return
        if command != "run":
            raise SystemExit(f"unknown command from the parent: {line!r}")
        answers.write(json.dumps(timed_requests(lambda: request(client), int(argument))) + "\n")
        answers.flush()


def relax_sqlite_durability(sender, connection, **kwargs):
    """No fsync per commit on SQLite: the disk, not the package, would set every writing endpoint's rate."""
    if connection.vendor == "sqlite":
        connection.cursor().execute("PRAGMA synchronous = OFF")


def main():
    # The answers keep the standard output to themselves: whatever else is printed goes to the log.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_endpoints_settings"
    import django
    from django.db.backends.signals import connection_created

    django.setup()
    connection_created.connect(relax_sqlite_durability)
    from django.conf import settings

    settings.ROOT_URLCONF = __name__
    urlpatterns.extend(build_urlpatterns())

    from django.test import Client

    requests = int(os.environ["BENCH_ENDPOINTS_REQUESTS"])
    name = os.environ["BENCH_ENDPOINTS_ENDPOINT"]
    expected, build, signed_in = ENDPOINTS[name]
    fixtures = Fixtures(os.environ["BENCH_ENDPOINTS_SECRET"], WARMUP_REQUESTS + requests)
    client = Client()
    if signed_in:
        client.force_login(fixtures.user)
    request = build(fixtures)
    warm_up(request, client)
    answers.write(json.dumps({"ready": name, "expected": expected}) + "\n")
    answers.flush()
    answer_commands(sys.stdin, answers, request, client)


if __name__ == "__main__":
    main()
