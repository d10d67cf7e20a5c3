"""A relying party built on Authlib's Django client signs a user in against a live server.

Authlib does what a real relying party does: it reads the discovery document, sends the user to the
authorization endpoint with PKCE (S256) and a nonce, redeems the code, verifies the ID token against the keys
at ``jwks_uri`` (signature, issuer, audience, nonce, ``at_hash``, expiry) and calls the UserInfo endpoint. The
user's browser is a ``requests`` session carrying the provider's session cookie of a logged-in user.

The module is its own URLconf (``urlpatterns`` below): the provider's URLs are mounted under ``/o/``.
"""

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.django_client import OAuth
from django.conf import settings as django_settings
from django.test import Client, RequestFactory
from django.urls import include, path
from jwcrypto import jwk

from oauth2_provider.models import get_application_model, get_id_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator


urlpatterns = [path("o/", include("oauth2_provider.urls"))]

pytestmark = pytest.mark.urls(__name__)

Application = get_application_model()

SECRET = "live-relying-party-secret"
CALLBACK = "http://rp.test/callback"


class EmailClaimValidator(OAuth2Validator):
    def get_additional_claims(self, request):
        return {"email": request.user.email}


class FormInputs(HTMLParser):
    """The ``name: value`` of every input in a page (the consent form's hidden fields)."""

    def __init__(self):
        super().__init__()
        self.values = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") and attrs.get("type") != "submit":
            self.values[attrs["name"]] = attrs.get("value") or ""


def form_inputs(html):
    parser = FormInputs()
    parser.feed(html)
    return parser.values


@pytest.fixture
def provider(settings, monkeypatch):
    # Both libraries refuse plain http unless told that this is a test.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    settings.OAUTH2_PROVIDER = {
        "OIDC_ENABLED": True,
        "OIDC_RSA_PRIVATE_KEY": jwk.JWK.generate(kty="RSA", size=2048)
        .export_to_pem(private_key=True, password=None)
        .decode(),
        "SCOPES": {"openid": "OpenID Connect", "email": "E-mail"},
        "OAUTH2_VALIDATOR_CLASS": EmailClaimValidator,
        "PKCE_REQUIRED": True,
        # Views keep their oauthlib server between requests; other tests use other validators.
        "ALWAYS_RELOAD_OAUTHLIB_CORE": True,
    }


@pytest.fixture
def user(transactional_db, django_user_model):
    return django_user_model.objects.create_user("carol", "carol@example.com", "password")


@pytest.fixture
def application(provider, user):
    return Application.objects.create(
        user=user,
        name="Authlib relying party",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=CALLBACK,
        client_secret=SECRET,
        algorithm=Application.RS256_ALGORITHM,
    )


@pytest.fixture
def browser(user):
    """The user's browser, logged in at the provider."""
    client = Client()
    client.force_login(user)
    cookie_name = django_settings.SESSION_COOKIE_NAME
    session = requests.Session()
    session.cookies.set(cookie_name, client.cookies[cookie_name].value)
    return session


def relying_party(live_server, application):
    oauth = OAuth()
    return oauth.register(
        name="lts",
        client_id=application.client_id,
        client_secret=SECRET,
        server_metadata_url=f"{live_server.url}/o/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email", "code_challenge_method": "S256"},
    )


def rp_request(url, session):
    """A request to one of the relying party's own views; Authlib keeps its state in ``session``."""
    request = RequestFactory().get(url)
    request.session = session
    return request


def consent(browser, authorization_url):
    """Show the consent page to the user and approve it; the Location the provider answers with."""
    page = browser.get(authorization_url)
    assert page.status_code == 200, page.text
    fields = form_inputs(page.text)
    approval = browser.post(page.url, data={**fields, "allow": "on"}, allow_redirects=False)
    assert approval.status_code == 302, approval.text
    return approval.headers["Location"]


def test_authlib_relying_party_signs_a_user_in(live_server, application, browser, user):
    rp = relying_party(live_server, application)

    metadata = rp.load_server_metadata()
    assert metadata["issuer"] == f"{live_server.url}/o"
    assert metadata["token_endpoint"] == f"{live_server.url}/o/token/"
    assert "S256" in metadata["code_challenge_methods_supported"]

    rp_session = {}
    redirect = rp.authorize_redirect(rp_request("/login", rp_session), CALLBACK)
    sent = parse_qs(urlsplit(redirect.url).query)
    assert sent["code_challenge_method"] == ["S256"]
    assert "nonce" in sent

    callback = consent(browser, redirect.url)
    assert callback.startswith(CALLBACK)
    # Redeems the code with the PKCE verifier, then verifies the ID token against the JWKS.
    token = rp.authorize_access_token(rp_request(callback, rp_session))

    assert token["userinfo"]["sub"] == str(user.pk)
    assert token["userinfo"]["aud"] == application.client_id
    assert token["userinfo"]["nonce"] == sent["nonce"][0]
    assert get_id_token_model().objects.filter(jti=token["userinfo"]["jti"], user=user).exists()
    assert rp.userinfo(token=token) == {"sub": str(user.pk), "email": "carol@example.com"}


def test_authlib_refuses_a_code_redeemed_without_the_verifier(live_server, application, browser):
    rp = relying_party(live_server, application)
    redirect = rp.authorize_redirect(rp_request("/login", {}), CALLBACK)
    code = parse_qs(urlsplit(consent(browser, redirect.url)).query)["code"][0]

    response = requests.post(
        rp.load_server_metadata()["token_endpoint"],
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        auth=(application.client_id, SECRET),
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
