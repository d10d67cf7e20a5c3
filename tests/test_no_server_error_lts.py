"""A permanent guard: no request, however hostile, makes any endpoint answer with a server error.

Hypothesis generates requests (method, endpoint, parameters in the query string and in form, JSON,
multipart or raw bodies, content types, ``Authorization`` headers of every scheme, forged JWTs, huge and
malformed values) and sends them through the real URLconf, anonymously and signed in, against a database
holding applications of every kind and live tokens. Every answer must be below 500. Django's test client
re-raises an exception escaping a view, so a crash fails the test with its traceback and Hypothesis shrinks
the request that caused it.

The run is bounded by its example count, not by a clock: a fixed number of examples, derandomized (the
same requests on every run and every machine), no deadline and no example database.
"""

import base64
import itertools
import json
from urllib.parse import urlencode

import pytest
from django.http import HttpResponse
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import include, path, reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwcrypto import jwk, jwt
from jwcrypto.common import base64url_encode
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)
from oauth2_provider.views.generic import ProtectedResourceView

from .flow_helpers import OWNER_PASSWORD, REDIRECT_URI, rsa_pem
from .flow_urls import JSONTokenView


class Api(ProtectedResourceView):
    def get(self, request):
        return HttpResponse("ok")

    post = get


class DRFApi(APIView):
    authentication_classes = [OAuth2Authentication]
    permission_classes = [TokenHasScope]
    required_scopes = ["read"]

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("o/", include("oauth2_provider.urls")),
    path("o-json/token/", JSONTokenView.as_view()),
    path("api/", Api.as_view()),
    path("drf/", DRFApi.as_view()),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

Application = get_application_model()

# Enough to reach every endpoint with many shapes of request; each example is one request.
EXAMPLES = 300
HS256_SECRET = "hs256-secret-stored-in-clear-long-enough"
HASHED_SECRET = "hs256-secret-stored-hashed-long-enough"

GUARD = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# The parameters the endpoints read (RFC 6749, RFC 7009, RFC 7636, RFC 7662, OpenID Connect, the forms).
PARAMETERS = [
    "client_id",
    "client_secret",
    "grant_type",
    "response_type",
    "code",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "prompt",
    "max_age",
    "response_mode",
    "claims",
    "code_verifier",
    "code_challenge",
    "code_challenge_method",
    "refresh_token",
    "token",
    "token_type_hint",
    "access_token",
    "username",
    "password",
    "allow",
    "id_token_hint",
    "logout_hint",
    "post_logout_redirect_uri",
    "ui_locales",
    "approval_prompt",
    "client",
    "name",
    "client_type",
    "authorization_grant_type",
    "redirect_uris",
    "post_logout_redirect_uris",
    "allowed_origins",
    "algorithm",
    "hash_client_secret",
    "skip_authorization",
]

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]

CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/x-www-form-urlencoded; charset=no-such-charset",
    "application/json",
    "multipart/form-data",
    MULTIPART_CONTENT,
    "text/plain",
    "application/xml",
    "",
    "*/*; ;;=",
]

HUGE = ["a" * 100_000, "%" * 50_000, "é" * 30_000, " " * 100_000, "a." * 20_000]
ODD = [
    "",
    "\x00",
    "a\x00b",
    "%zz",
    "%00",
    "%",
    "http://[::1",
    "https://evil.example/cb",
    "javascript:alert(1)",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "null",
    "[]",
    "{}",
    '{"aud": 1}',
    "S256",
    "plain",
    "authorization_code",
    "refresh_token",
    "password",
    "client_credentials",
    "openid",
    "openid read write",
    "none",
    "login consent",
    "code id_token token",
    "on",
    "-1",
    "99999999999999999999999",
]

# Text a form or a URL can carry: anything but lone surrogates, which Django's test client cannot encode.
encodable_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)


def b64url_json(value):
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@pytest.fixture
def world(settings, django_user_model):
    """A provider with applications of every kind and live credentials; returns what requests may name."""
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_ENABLED": True,
        "OIDC_RSA_PRIVATE_KEY": rsa_pem(),
        "OIDC_ISS_ENDPOINT": "https://id.example.com/o",
        "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
        "SCOPES": {"openid": "OpenID Connect", "read": "Reading", "write": "Writing"},
        "PKCE_REQUIRED": False,
    }
    alice = django_user_model.objects.create_user("alice", "alice@example.com", OWNER_PASSWORD)
    confidential, public = Application.CLIENT_CONFIDENTIAL, Application.CLIENT_PUBLIC
    rs256, hs256 = Application.RS256_ALGORITHM, Application.HS256_ALGORITHM
    # (name, client type, grant type, algorithm, secret, hashed): every kind of client.
    kinds = [
        ("rs256", confidential, Application.GRANT_AUTHORIZATION_CODE, rs256, "rs256-secret", True),
        ("hs256 in clear", confidential, Application.GRANT_AUTHORIZATION_CODE, hs256, HS256_SECRET, False),
        ("hs256 hashed", confidential, Application.GRANT_AUTHORIZATION_CODE, hs256, HASHED_SECRET, True),
        ("public", public, Application.GRANT_AUTHORIZATION_CODE, "", "public-secret", True),
        ("implicit", public, Application.GRANT_IMPLICIT, rs256, "implicit-secret", True),
        ("hybrid", confidential, Application.GRANT_OPENID_HYBRID, rs256, "hybrid-secret", True),
        ("password", confidential, Application.GRANT_PASSWORD, "", "password-secret", True),
        ("service", confidential, Application.GRANT_CLIENT_CREDENTIALS, "", "service-secret", True),
    ]
    apps = [
        Application.objects.create(
            name=name,
            user=alice,
            client_type=client_type,
            authorization_grant_type=grant_type,
            algorithm=algorithm,
            client_secret=secret,
            hash_client_secret=hashed,
            redirect_uris=REDIRECT_URI,
            post_logout_redirect_uris=REDIRECT_URI,
        )
        for name, client_type, grant_type, algorithm, secret, hashed in kinds
    ]
    later = timezone.now() + timezone.timedelta(hours=1)
    id_token = get_id_token_model().objects.create(
        user=alice, application=apps[1], expires=later, scope="openid read"
    )
    access_token = get_access_token_model().objects.create(
        token="live-access-token",
        user=alice,
        application=apps[1],
        expires=later,
        scope="openid read",
        id_token=id_token,
    )
    refresh_token = get_refresh_token_model().objects.create(
        token="live-refresh-token", user=alice, application=apps[1], access_token=access_token
    )
    # Client credentials granted openid: a live token without an end user (it crashed UserInfo, issue 26).
    service_token = get_access_token_model().objects.create(
        token="live-service-token", application=apps[7], expires=later, scope="openid read introspection"
    )
    grant = get_grant_model().objects.create(
        code="live-code",
        user=alice,
        application=apps[0],
        expires=later,
        redirect_uri=REDIRECT_URI,
        scope="openid read",
    )
    stored_hash = Application.objects.get(pk=apps[2].pk).client_secret
    values = [app.client_id for app in apps]
    values += [access_token.token, refresh_token.token, grant.code, str(id_token.jti), REDIRECT_URI]
    values += [HS256_SECRET, HASHED_SECRET, "rs256-secret", str(alice.pk), "alice", OWNER_PASSWORD]
    # (key, alg): the clear secret, the leaked hash, the cleartext of the hashed secret, the provider's key.
    keys = [
        (jwk.JWK(kty="oct", k=base64url_encode(HS256_SECRET)), "HS256"),
        (jwk.JWK(kty="oct", k=base64url_encode(stored_hash)), "HS256"),
        (jwk.JWK(kty="oct", k=base64url_encode(HASHED_SECRET)), "HS256"),
        (jwk.JWK.from_pem(rsa_pem().encode()), "RS256"),
    ]
    pks = [str(apps[0].pk), str(access_token.pk), "0", "-1", "abc", "9" * 30]
    bearers = [access_token.token, service_token.token, live_id_token(id_token, apps[1], keys[0][0])]
    secrets = [(app.client_id, secret) for app, (*_, secret, _hashed) in zip(apps, kinds, strict=True)]
    return {
        "user": alice,
        "values": values,
        "keys": keys,
        "pks": pks,
        "jti": str(id_token.jti),
        "credentials": [f"Bearer {value}" for value in bearers] + [basic_header(*pair) for pair in secrets],
    }


def live_id_token(row, application, key):
    """The ID token of ``row`` as its application's relying party holds it: valid as a bearer token."""
    claims = {"aud": application.client_id, "jti": str(row.jti), "exp": int(row.expires.timestamp())}
    claims.update(iss="https://id.example.com/o", sub=str(row.user.pk))
    token = jwt.JWT(header={"alg": "HS256", "typ": "JWT"}, claims=json.dumps(claims))
    token.make_signed_token(key)
    return token.serialize()


def basic_header(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode("utf-8", "surrogatepass")).decode()


def endpoints(pks):
    """Every URL of the provider (with real and bogus primary keys) and the protected views."""
    plain = [
        "authorize",
        "token",
        "revoke-token",
        "introspect",
        "list",
        "register",
        "authorized-token-list",
        "oidc-connect-discovery-info",
        "jwks-info",
        "user-info",
        "rp-initiated-logout",
    ]
    with_pk = ["detail", "delete", "update", "authorized-token-delete"]
    urls = [reverse(f"oauth2_provider:{name}") for name in plain]
    urls += [reverse(f"oauth2_provider:{name}", kwargs={"pk": pk}) for name in with_pk for pk in pks]
    return urls + ["/o-json/token/", "/api/", "/drf/"]


@st.composite
def forged_jwts(draw, world):
    """JWTs an attacker would try: real and odd claims, signed with known, leaked or no keys."""
    claim_values = st.one_of(
        st.sampled_from(world["values"]),
        st.integers(min_value=-(2**63), max_value=2**63),
        encodable_text,
        st.lists(st.sampled_from(world["values"]), max_size=3),
        st.none(),
        st.just({"nested": "object"}),
    )
    claims = draw(
        st.dictionaries(
            st.sampled_from(["aud", "jti", "exp", "iat", "nbf", "iss", "sub", "azp", "nonce"]), claim_values
        )
    )
    if draw(st.booleans()):
        claims.setdefault("jti", world["jti"])
    shape = draw(st.sampled_from(["signed", "alg none", "bad signature", "not an object", "two parts"]))
    if shape == "signed":
        key, alg = draw(st.sampled_from(world["keys"]))
        token = jwt.JWT(header={"alg": alg, "typ": "JWT"}, claims=json.dumps(claims, default=str))
        token.make_signed_token(key)
        return token.serialize()
    header = b64url_json({"alg": "none" if shape == "alg none" else "RS256", "typ": "JWT"})
    if shape == "not an object":
        return f"{header}.{b64url_json(draw(st.sampled_from([[], 7, 'aud', None])))}.c2ln"
    if shape == "two parts":
        return f"{header}.{b64url_json(claims)}"
    return f"{header}.{b64url_json(claims)}." + ("" if shape == "alg none" else "c2lnbmF0dXJl")


def hostile_values(world):
    return st.one_of(
        encodable_text,
        st.sampled_from(ODD),
        st.sampled_from(HUGE),
        st.sampled_from(world["values"]),
        forged_jwts(world),
    )


def authorization_headers(world):
    credentials = st.tuples(hostile_values(world), hostile_values(world))
    return st.one_of(
        st.none(),
        credentials.map(lambda pair: basic_header(*pair)),
        st.sampled_from(world["values"]).map(lambda value: f"Basic {value}"),
        hostile_values(world).map(lambda value: f"Bearer {value}"),
        forged_jwts(world).map(lambda token: f"Bearer {token}"),
        st.sampled_from(
            ["Bearer", "Basic", "Basic %%%", "Bearer  a b", "Digest x", "\x00", "Bearer " + HUGE[0]]
        ),
    )


@st.composite
def hostile_requests(draw, world, authorization_headers=authorization_headers):
    params = draw(st.dictionaries(st.sampled_from(PARAMETERS), hostile_values(world), max_size=8))
    method = draw(st.sampled_from(METHODS))
    url = draw(st.sampled_from(endpoints(world["pks"])))
    if draw(st.booleans()):
        query = draw(st.dictionaries(st.sampled_from(PARAMETERS), hostile_values(world), max_size=4))
        url += "?" + urlencode(query)
    elif draw(st.booleans()):
        url += "?" + draw(st.sampled_from(["%zz", "a=%zz&b", "&&==&", "%00=%00", "x=" + HUGE[1]]))
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    encoding = draw(st.sampled_from(["form", "json", "multipart", "raw"]))
    if encoding == "form":
        body = urlencode(params).encode()
    elif encoding == "json":
        # Lone surrogates are fine in JSON text ("\ud800"): a known way to break decoders downstream.
        body = json.dumps(draw(st.one_of(st.just(params), st.lists(st.text(max_size=5)), st.text()))).encode()
    elif encoding == "multipart":
        body = encode_multipart(BOUNDARY, params)
    else:
        body = draw(st.binary(max_size=200))
    headers = {}
    authorization = draw(authorization_headers(world))
    if authorization is not None:
        headers["HTTP_AUTHORIZATION"] = authorization
    if draw(st.booleans()):
        headers["HTTP_ORIGIN"] = draw(st.sampled_from(["https://evil.example", "null", "", REDIRECT_URI]))
    return method, url, body, content_type, headers


def send(client, request):
    method, url, body, content_type, headers = request
    return client.generic(method, url, data=body, content_type=content_type, **headers)


def valid_credentials(world):
    """Only credentials that authenticate: a live token of every kind or a client's own secret.

    Hostile headers hardly ever hit a valid token by chance, and what a valid token reaches (UserInfo for a
    token without an end user, say) is where the server errors hid that anonymous requests cannot find.
    """
    return st.sampled_from(world["credentials"])


@pytest.mark.parametrize(
    "signed_in, headers",
    [(False, authorization_headers), (True, authorization_headers), (False, valid_credentials)],
    ids=["anonymous", "signed in", "holding valid credentials"],
)
def test_no_request_gets_a_server_error(world, signed_in, headers):
    client = Client()

    @GUARD
    @given(request=hostile_requests(world, headers))
    def check(request):
        if signed_in:
            # A logout in an earlier example ended the session.
            client.force_login(world["user"])
        response = send(client, request)
        assert response.status_code < 500, (request[:2], response.status_code)

    check()


def test_every_valid_credential_at_every_endpoint_gets_no_server_error(world):
    """Each live credential at each endpoint, by GET and POST: no chance involved in reaching them all."""
    urls = endpoints(world["pks"][:1])
    for credential, url, method in itertools.product(world["credentials"], urls, ["GET", "POST"]):
        response = Client().generic(method, url, HTTP_AUTHORIZATION=credential)
        assert response.status_code < 500, (credential, method, url, response.status_code)


# What the guard found first: a primary key in a management URL that is no number.


@pytest.mark.parametrize(
    "method, name",
    [
        ("get", "detail"),
        ("get", "update"),
        ("post", "update"),
        ("get", "delete"),
        ("post", "delete"),
        ("get", "authorized-token-delete"),
        ("post", "authorized-token-delete"),
    ],
)
# "9" * 30 does not fit 64 bits: SQLite's driver raised OverflowError under Django 4.2.
@pytest.mark.parametrize("pk", ["abc", "1e3", "--", "9" * 30])
def test_a_malformed_or_oversized_primary_key_is_not_found(world, method, name, pk):
    client = Client()
    client.force_login(world["user"])

    response = getattr(client, method)(reverse(f"oauth2_provider:{name}", kwargs={"pk": pk}))

    assert response.status_code == 404
