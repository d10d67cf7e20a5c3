"""The resource server: protected views, decorators, middleware, authentication backend and DRF classes.

Every entry point gets the same hostile ``Authorization`` headers and must refuse them with a 401 or 403,
never a 500; a valid token must still get in (so that each refusal means something), and each protected
request must cost one query, on the token checksum, whatever the token.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import path
from django.utils import timezone
from django.views.generic import View
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth2_provider._checksum import token_checksum
from oauth2_provider.backends import OAuth2Backend
from oauth2_provider.contrib.rest_framework import (
    OAuth2Authentication,
    TokenHasReadWriteScope,
    TokenHasResourceScope,
    TokenHasScope,
)
from oauth2_provider.decorators import protected_resource, rw_protected_resource
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.views.generic import ProtectedResourceView
from oauth2_provider.views.mixins import ReadWriteScopedResourceMixin


AccessToken = get_access_token_model()
Application = get_application_model()

VALID = "valid-token-lts"
EXPIRED = "expired-token-lts"


class ProtectedView(ProtectedResourceView):
    def get(self, request):
        return HttpResponse(f"hello {request.resource_owner.username}")

    post = get


@protected_resource(scopes=["read"])
def decorated_view(request):
    return HttpResponse(f"hello {request.resource_owner.username}")


@rw_protected_resource()
def read_write_view(request):
    return HttpResponse("ok")


def user_view(request):
    """What the middleware made of the request: 403 when it authenticated nobody."""
    if not request.user.is_authenticated:
        return HttpResponse("anonymous", status=403)
    return HttpResponse(f"hello {request.user.username}")


def access_token_view(request):
    """The token OAuth2ExtraTokenMiddleware attached, or 403."""
    access_token = getattr(request, "access_token", None)
    if access_token is None:
        return HttpResponse("no token", status=403)
    return HttpResponse(f"token of {access_token.user.username}")


class DRFScopedView(APIView):
    authentication_classes = [OAuth2Authentication]
    permission_classes = [IsAuthenticated, TokenHasScope]
    required_scopes = ["read"]

    def get(self, request):
        return Response({"user": request.user.username})


class DRFReadWriteTupleView(DRFScopedView):
    permission_classes = [IsAuthenticated, TokenHasReadWriteScope]
    required_scopes = ("read",)


class DRFResourceView(DRFScopedView):
    permission_classes = [IsAuthenticated, TokenHasResourceScope]
    required_scopes = ("books",)


urlpatterns = [
    path("protected/", ProtectedView.as_view()),
    path("decorated/", decorated_view),
    path("read-write/", read_write_view),
    path("user/", user_view),
    path("access-token/", access_token_view),
    path("drf/", DRFScopedView.as_view()),
    path("drf-read-write/", DRFReadWriteTupleView.as_view()),
    path("drf-resource/", DRFResourceView.as_view()),
]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

TOKEN_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "oauth2_provider.middleware.OAuth2TokenMiddleware",
]
BACKENDS = ["oauth2_provider.backends.OAuth2Backend", "django.contrib.auth.backends.ModelBackend"]

HOSTILE_HEADERS = {
    "scheme only": "Bearer",
    "scheme and spaces": "Bearer    ",
    "scheme and tab": "Bearer\t",
    "two tokens": f"Bearer {VALID} {VALID}",
    "comma-separated credentials": f"Bearer {VALID}, Bearer {VALID}",
    "latin-1 bytes as WSGI decodes them": "Bearer \xe9\xff\xfe\x80",
    "non-ASCII": "Bearer ключ-🔑-é",
    "NUL byte": "Bearer abc\x00def",
    "quote and backslash": 'Bearer "x\\"',
    "100 kB token": "Bearer " + "a" * 100_000,
    "100 kB of spaces": "Bearer" + " " * 100_000,
    "Basic scheme": "Basic dXNlcjpwYXNzd29yZA==",
    "Basic garbage": "Basic %%%",
    "other scheme with a valid token": f"Token {VALID}",
    "valid token, no scheme": VALID,
    "unknown token": "Bearer not-a-token",
    "expired token": f"Bearer {EXPIRED}",
}
# OAuth2ExtraTokenMiddleware looks tokens up without judging them: this header names a token that exists.
ATTACHED_BY_EXTRA_MIDDLEWARE = {HOSTILE_HEADERS["expired token"]}
HOSTILE = pytest.mark.parametrize("header", HOSTILE_HEADERS.values(), ids=HOSTILE_HEADERS.keys())


@pytest.fixture
def user():
    return get_user_model().objects.create_user("alice", "alice@example.com", "pw")


@pytest.fixture
def tokens(user):
    application = Application.objects.create(
        name="api client",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    now = timezone.now()
    for value, expires in ((VALID, now + timedelta(hours=1)), (EXPIRED, now - timedelta(seconds=1))):
        AccessToken.objects.create(
            user=user, application=application, token=value, scope="read write", expires=expires
        )


@pytest.fixture
def token_middleware(settings):
    settings.MIDDLEWARE = TOKEN_MIDDLEWARE
    settings.AUTHENTICATION_BACKENDS = BACKENDS


@pytest.fixture
def extra_token_middleware(settings):
    settings.MIDDLEWARE = ["oauth2_provider.middleware.OAuth2ExtraTokenMiddleware"]


def use_middleware_for_user_view(request, url):
    """Install OAuth2TokenMiddleware for /user/ only: the other views check tokens themselves."""
    if url == "/user/":
        request.getfixturevalue("token_middleware")


def get(client, url, header=None):
    return client.get(url, HTTP_AUTHORIZATION=header) if header is not None else client.get(url)


# The valid token gets in everywhere: the refusals below are about the headers.


@pytest.mark.parametrize("url", ["/protected/", "/decorated/", "/read-write/", "/drf/"])
def test_valid_token_gets_in(client, tokens, url):
    assert get(client, url, f"Bearer {VALID}").status_code == 200


def test_middleware_logs_the_token_owner_in(client, tokens, token_middleware):
    response = get(client, "/user/", f"Bearer {VALID}")
    assert (response.status_code, response.content) == (200, b"hello alice")
    assert "Authorization" in response["Vary"]


def test_extra_token_middleware_attaches_the_token(client, tokens, extra_token_middleware):
    response = get(client, "/access-token/", f"Bearer {VALID}")
    assert (response.status_code, response.content) == (200, b"token of alice")


# The scheme is case-insensitive and exact, and one token follows: both middlewares read the header as the
# views and oauthlib do (upstream 3.4.1).


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_middleware_accepts_the_scheme_in_any_case(client, tokens, token_middleware, scheme):
    assert get(client, "/user/", f"{scheme} {VALID}").content == b"hello alice"


@pytest.mark.parametrize("scheme", ["bearer", "BEARER"])
def test_extra_token_middleware_accepts_the_scheme_in_any_case(
    client, tokens, extra_token_middleware, scheme
):
    assert get(client, "/access-token/", f"{scheme} {VALID}").status_code == 200


@pytest.mark.parametrize(
    "header", [f"BearerX {VALID}", f"Bearer{VALID}", f"Bearer {VALID} extra", f"Bearer {VALID} {VALID}"]
)
def test_extra_token_middleware_attaches_nothing_for_another_scheme_or_more_words(
    client, tokens, extra_token_middleware, header
):
    assert get(client, "/access-token/", header).status_code == 403


# Hostile headers: refused, never a 500.


@HOSTILE
@pytest.mark.parametrize("url", ["/protected/", "/decorated/", "/read-write/"])
def test_hostile_header_is_forbidden_on_django_views(client, tokens, url, header):
    assert get(client, url, header).status_code == 403


@HOSTILE
def test_hostile_header_is_unauthorized_on_a_drf_view(client, tokens, header):
    response = get(client, "/drf/", header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer realm="api"')


@HOSTILE
def test_hostile_header_authenticates_nobody_through_the_middleware(client, tokens, token_middleware, header):
    response = get(client, "/user/", header)
    assert (response.status_code, response.content) == (403, b"anonymous")
    assert "Authorization" in response["Vary"]


@HOSTILE
def test_hostile_header_attaches_no_token_through_the_extra_middleware(
    client, tokens, extra_token_middleware, header
):
    response = get(client, "/access-token/", header)
    assert response.status_code == (200 if header in ATTACHED_BY_EXTRA_MIDDLEWARE else 403)


@HOSTILE
def test_hostile_header_gives_no_user_from_the_backend(tokens, header):
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=header)
    assert OAuth2Backend().authenticate(request=request) is None


@pytest.mark.parametrize(
    ("url", "status"),
    # Django's protected views answer 403; DRF asks for credentials with a 401 and WWW-Authenticate.
    [("/protected/", 403), ("/decorated/", 403), ("/read-write/", 403), ("/drf/", 401)],
)
def test_no_header_is_refused(client, tokens, url, status):
    assert get(client, url).status_code == status


@pytest.mark.parametrize("url", ["/protected/", "/decorated/", "/read-write/", "/drf/", "/user/"])
def test_broken_percent_escape_in_the_query_is_a_bad_request(request, client, tokens, url):
    use_middleware_for_user_view(request, url)
    assert client.get(f"{url}?q=%%7A", HTTP_AUTHORIZATION=f"Bearer {VALID}").status_code == 400


@pytest.mark.parametrize("url", ["/protected/", "/decorated/", "/read-write/", "/drf/"])
def test_a_bug_raising_valueerror_is_not_disguised_as_bad_input(client, tokens, url, monkeypatch):
    """Only oauthlib's own parsing failure is the client's fault, even if a bug words its error alike."""

    def broken(*args, **kwargs):
        raise ValueError("Invalid hex encoding in query string.")

    monkeypatch.setattr(OAuth2Validator, "validate_bearer_token", broken)
    with pytest.raises(ValueError, match="Invalid hex encoding"):
        client.get(url, HTTP_AUTHORIZATION=f"Bearer {VALID}")


# What a DRF client is told.


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, 'Bearer realm="api"'),
        ("Bearer", 'Bearer realm="api"'),
        (
            "Bearer not-a-token",
            'Bearer realm="api",error="invalid_token",error_description="The access token is invalid."',
        ),
        (
            f"Bearer {EXPIRED}",
            'Bearer realm="api",error="invalid_token",error_description="The access token has expired."',
        ),
    ],
)
def test_drf_www_authenticate_says_why(client, tokens, header, expected):
    response = get(client, "/drf/", header)
    assert (response.status_code, response["WWW-Authenticate"]) == (401, expected)


def test_drf_www_authenticate_escapes_quoted_strings():
    request = RequestFactory().get("/")
    request.oauth2_error = {"error": "invalid_token", "error_description": 'a "quoted" \\ word'}
    header = OAuth2Authentication().authenticate_header(request)
    assert header == 'Bearer realm="api",error="invalid_token",error_description="a \\"quoted\\" \\\\ word"'


def test_drf_read_write_scope_accepts_a_tuple_of_required_scopes(client, tokens):
    assert get(client, "/drf-read-write/", f"Bearer {VALID}").status_code == 200


def test_drf_resource_scope_accepts_a_tuple_of_required_scopes(client, tokens):
    AccessToken.objects.filter(token_checksum=token_checksum(VALID)).update(scope="books:read")
    assert get(client, "/drf-resource/", f"Bearer {VALID}").status_code == 200


# Scopes of rw_protected_resource are computed per request, never accumulated.


def test_rw_protected_resource_requirements_do_not_leak_between_requests(client, tokens):
    AccessToken.objects.filter(token_checksum=token_checksum(VALID)).update(scope="write")
    header = f"Bearer {VALID}"
    assert client.post("/read-write/", HTTP_AUTHORIZATION=header).status_code == 200
    assert client.get("/read-write/", HTTP_AUTHORIZATION=header).status_code == 403
    assert client.post("/read-write/", HTTP_AUTHORIZATION=header).status_code == 200


def test_a_read_write_view_takes_the_keyword_arguments_of_as_view():
    # Upstream #694 (3.4.0): DOT 3.0.1's __new__ passed them on to object.__new__, a TypeError.
    class GreetingView(ReadWriteScopedResourceMixin, View):
        greeting = "hello"

    assert GreetingView(greeting="hi").greeting == "hi"


# One query per protected request, by checksum, with the application and user joined.


@pytest.mark.parametrize("url", ["/protected/", "/decorated/", "/drf/", "/user/"])
@pytest.mark.parametrize("token", [VALID, EXPIRED, "not-a-token"])
def test_each_protected_request_is_one_query_on_the_checksum(request, client, tokens, url, token):
    use_middleware_for_user_view(request, url)
    with CaptureQueriesContext(connection) as captured:
        get(client, url, f"Bearer {token}")
    assert len(captured.captured_queries) == 1, captured.captured_queries
    sql = captured.captured_queries[0]["sql"]
    assert token_checksum(token) in sql
    assert token not in sql
    assert Application._meta.db_table in sql
    assert get_user_model()._meta.db_table in sql


def test_extra_token_middleware_is_one_query_on_the_checksum(client, tokens, extra_token_middleware):
    with CaptureQueriesContext(connection) as captured:
        response = get(client, "/access-token/", f"Bearer {VALID}")
    assert response.content == b"token of alice"
    assert len(captured.captured_queries) == 1
    assert token_checksum(VALID) in captured.captured_queries[0]["sql"]
