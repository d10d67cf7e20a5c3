"""Application management, the user's authorized tokens and token introspection, through the real URLs.

The module is its own URLconf (``urlpatterns`` below): the provider's URLs are mounted under ``/o/`` just
for these tests, the way a project includes them.
"""

import base64
import calendar
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone

from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.views import IntrospectTokenView


urlpatterns = [path("o/", include("oauth2_provider.urls"))]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

Application = get_application_model()
AccessToken = get_access_token_model()

SECRET = "a-cleartext-client-secret"
INTROSPECTION_SETTINGS = {"SCOPES": {"read": "Reading", "write": "Writing", "introspection": "Introspecting"}}


def in_(delta):
    return timezone.now() + delta


def basic_auth(client_id, secret):
    credentials = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {credentials}"}


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token.token}"}


def make_application(user, name, **fields):
    fields = {
        "client_type": Application.CLIENT_CONFIDENTIAL,
        "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
        "redirect_uris": "https://client.example/callback",
        **fields,
    }
    return Application.objects.create(user=user, name=name, **fields)


def make_token(user, application, value, expires_in=timedelta(hours=1), scope="read write"):
    return AccessToken.objects.create(
        user=user, application=application, token=value, expires=in_(expires_in), scope=scope
    )


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.com", "password")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", "password")


@pytest.fixture
def alice_client(alice):
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def alice_app(alice):
    return make_application(alice, "Alice's app")


@pytest.fixture
def bob_app(bob):
    return make_application(bob, "Bob's app")


# --- application management ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["list", "register"])
def test_application_pages_without_object_send_anonymous_users_to_login(client, name):
    url = reverse(f"oauth2_provider:{name}")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize("name", ["detail", "update", "delete"])
def test_application_pages_send_anonymous_users_to_login(client, alice_app, name):
    url = reverse(f"oauth2_provider:{name}", args=[alice_app.pk])
    assert client.get(url)["Location"] == f"/accounts/login/?next={url}"
    assert client.post(url)["Location"] == f"/accounts/login/?next={url}"
    assert Application.objects.filter(pk=alice_app.pk).exists()


def test_list_shows_only_the_users_applications(alice_client, alice, alice_app, bob_app):
    other = make_application(alice, "Alice's second app")
    response = alice_client.get(reverse("oauth2_provider:list"))
    assert response.status_code == 200
    assert set(response.context["applications"]) == {alice_app, other}
    assert b"Bob&#x27;s app" not in response.content


def test_list_without_applications_offers_registration(alice_client):
    response = alice_client.get(reverse("oauth2_provider:list"))
    assert response.status_code == 200
    assert reverse("oauth2_provider:register").encode() in response.content


@pytest.mark.parametrize("name", ["detail", "update", "delete"])
def test_another_users_application_is_not_found(alice_client, bob_app, name):
    assert alice_client.get(reverse(f"oauth2_provider:{name}", args=[bob_app.pk])).status_code == 404


def test_another_users_application_cannot_be_changed_or_deleted(alice_client, bob_app):
    update = alice_client.post(
        reverse("oauth2_provider:update", args=[bob_app.pk]),
        {"name": "stolen", "client_type": "public", "authorization_grant_type": "implicit"},
    )
    delete = alice_client.post(reverse("oauth2_provider:delete", args=[bob_app.pk]))
    assert (update.status_code, delete.status_code) == (404, 404)
    bob_app.refresh_from_db()
    assert bob_app.name == "Bob's app"


def test_detail_shows_the_application(alice_client, alice_app):
    response = alice_client.get(reverse("oauth2_provider:detail", args=[alice_app.pk]))
    assert response.status_code == 200
    assert response.context["application"] == alice_app
    for value in (alice_app.client_id, alice_app.redirect_uris, alice_app.client_type):
        assert value in response.content.decode()


def test_registration_form_renders(alice_client):
    response = alice_client.get(reverse("oauth2_provider:register"))
    assert response.status_code == 200
    assert set(response.context["form"].fields) == {
        "name",
        "client_id",
        "client_secret",
        "hash_client_secret",
        "client_type",
        "authorization_grant_type",
        "redirect_uris",
        "post_logout_redirect_uris",
        "allowed_origins",
        "algorithm",
    }


def test_registration_sets_the_owner_and_hashes_the_secret(alice_client, alice, bob):
    response = alice_client.post(
        reverse("oauth2_provider:register"),
        {
            "name": "New app",
            "client_id": "new-client",
            "client_secret": SECRET,
            "hash_client_secret": "on",
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": "https://new.example/cb",
            "algorithm": "",
            # Not form fields: the owner is always the requester, skipping consent is an admin decision.
            "user": bob.pk,
            "skip_authorization": "on",
        },
    )
    application = Application.objects.get(client_id="new-client")
    assert response.status_code == 302
    assert response["Location"] == reverse("oauth2_provider:detail", args=[application.pk])
    assert application.user == alice
    assert not application.skip_authorization
    assert application.client_secret != SECRET
    assert check_password(SECRET, application.client_secret)


def test_registration_with_invalid_data_shows_the_errors(alice_client):
    response = alice_client.post(
        reverse("oauth2_provider:register"), {"name": "Broken", "client_type": "nonsense"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["client_type"]
    assert not Application.objects.exists()


def test_registration_shows_each_problem_beside_its_input(alice_client):
    # Upstream #1343 (PR #1811): a bad redirect URI and a bad origin, both reported, each on its field.
    response = alice_client.post(
        reverse("oauth2_provider:register"),
        {
            "name": "Broken",
            "client_id": "broken-client",
            "client_secret": SECRET,
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": "ftp://new.example/cb",
            "allowed_origins": "http://new.example",
            "algorithm": "",
        },
    )
    form = response.context["form"]
    assert response.status_code == 200
    assert form.non_field_errors() == []
    assert form.errors["redirect_uris"] == [
        "redirect uri URI Validation error. invalid_scheme: ftp://new.example/cb"
    ]
    assert form.errors["allowed_origins"] == [
        "allowed origin URI Validation error. invalid_scheme: http://new.example"
    ]
    assert not Application.objects.exists()


def test_update_changes_the_application_and_keeps_the_owner(alice_client, alice, alice_app):
    response = alice_client.post(
        reverse("oauth2_provider:update", args=[alice_app.pk]),
        {
            "name": "Renamed",
            "client_id": alice_app.client_id,
            "client_type": Application.CLIENT_PUBLIC,
            "authorization_grant_type": Application.GRANT_IMPLICIT,
            "redirect_uris": "https://renamed.example/cb",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("oauth2_provider:detail", args=[alice_app.pk])
    alice_app.refresh_from_db()
    assert (alice_app.name, alice_app.client_type, alice_app.user) == ("Renamed", "public", alice)


def test_update_form_renders(alice_client, alice_app):
    response = alice_client.get(reverse("oauth2_provider:update", args=[alice_app.pk]))
    assert response.status_code == 200
    assert response.context["form"].instance == alice_app


def test_delete_asks_first_then_really_deletes(alice_client, alice_app):
    url = reverse("oauth2_provider:delete", args=[alice_app.pk])
    assert alice_client.get(url).status_code == 200
    assert Application.objects.filter(pk=alice_app.pk).exists()

    response = alice_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("oauth2_provider:list")
    assert not Application.objects.filter(pk=alice_app.pk).exists()


# --- the user's authorized tokens --------------------------------------------------------------------------


def test_token_pages_send_anonymous_users_to_login(client, alice, alice_app):
    token = make_token(alice, alice_app, "alice-token")
    for url in (
        reverse("oauth2_provider:authorized-token-list"),
        reverse("oauth2_provider:authorized-token-delete", args=[token.pk]),
    ):
        assert client.get(url)["Location"] == f"/accounts/login/?next={url}"
    assert AccessToken.objects.filter(pk=token.pk).exists()


def test_token_list_shows_only_the_users_tokens(alice_client, alice, bob, alice_app, bob_app):
    own = make_token(alice, bob_app, "alice-token", scope="read")
    make_token(bob, bob_app, "bob-token")
    response = alice_client.get(reverse("oauth2_provider:authorized-token-list"))
    assert response.status_code == 200
    assert list(response.context["authorized_tokens"]) == [own]
    assert b"Bob&#x27;s app" in response.content
    assert reverse("oauth2_provider:authorized-token-delete", args=[own.pk]).encode() in response.content


def test_token_list_when_there_are_none(alice_client):
    response = alice_client.get(reverse("oauth2_provider:authorized-token-list"))
    assert b"There are no authorized tokens yet." in response.content


def test_another_users_token_is_not_found_and_not_deleted(alice_client, bob, bob_app):
    token = make_token(bob, bob_app, "bob-token")
    url = reverse("oauth2_provider:authorized-token-delete", args=[token.pk])
    assert alice_client.get(url).status_code == 404
    assert alice_client.post(url).status_code == 404
    assert AccessToken.objects.filter(pk=token.pk).exists()


def test_token_delete_asks_first_then_really_deletes(alice_client, alice, bob_app):
    token = make_token(alice, bob_app, "alice-token")
    url = reverse("oauth2_provider:authorized-token-delete", args=[token.pk])
    assert alice_client.get(url).status_code == 200

    response = alice_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("oauth2_provider:authorized-token-list")
    assert not AccessToken.objects.filter(pk=token.pk).exists()


# --- introspection ----------------------------------------------------------------------------------------


@pytest.fixture
def introspection_settings(settings):
    settings.OAUTH2_PROVIDER = INTROSPECTION_SETTINGS


@pytest.fixture
def resource_server(bob):
    """A confidential client whose secret we know, acting as the resource server that introspects."""
    return make_application(bob, "Resource server", client_id="resource-server", client_secret=SECRET)


@pytest.fixture
def introspect_url():
    return reverse("oauth2_provider:introspect")


def expected_claims(token):
    return {
        "active": True,
        "scope": token.scope,
        "exp": calendar.timegm(token.expires.timetuple()),
        "client_id": token.application.client_id,
        "username": token.user.get_username(),
    }


@pytest.mark.usefixtures("introspection_settings")
class TestIntrospection:
    def test_active_token_by_post_with_basic_auth(self, client, introspect_url, resource_server, alice):
        token = make_token(alice, resource_server, "valid-token")
        response = client.post(
            introspect_url, {"token": token.token}, **basic_auth(resource_server.client_id, SECRET)
        )
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response.json() == expected_claims(token)

    def test_active_token_by_get_with_bearer(self, client, introspect_url, resource_server, alice):
        token = make_token(alice, resource_server, "valid-token")
        caller = make_token(None, resource_server, "caller", scope="introspection")
        response = client.get(introspect_url, {"token": token.token}, **bearer(caller))
        assert response.json() == expected_claims(token)

    def test_credentials_in_body(self, client, introspect_url, resource_server, alice):
        token = make_token(alice, resource_server, "valid-token")
        response = client.post(
            introspect_url,
            {"token": token.token, "client_id": resource_server.client_id, "client_secret": SECRET},
        )
        assert response.json() == expected_claims(token)

    def test_token_of_another_client_is_described(
        self, client, introspect_url, resource_server, alice, alice_app
    ):
        # As in 3.0.1, any authenticated client may introspect any token.
        token = make_token(alice, alice_app, "alice-app-token")
        response = client.post(
            introspect_url, {"token": token.token}, **basic_auth(resource_server.client_id, SECRET)
        )
        assert response.json()["client_id"] == alice_app.client_id

    def test_token_without_user_or_application(self, client, introspect_url, resource_server, alice):
        no_user = make_token(None, resource_server, "no-user")
        no_app = make_token(alice, None, "no-app")
        auth = basic_auth(resource_server.client_id, SECRET)
        assert "username" not in client.post(introspect_url, {"token": no_user.token}, **auth).json()
        assert "client_id" not in client.post(introspect_url, {"token": no_app.token}, **auth).json()

    @pytest.mark.parametrize("value", ["no-such-token", "", "ünïcødé-token"])
    def test_unknown_token_is_inactive(self, client, introspect_url, resource_server, value):
        response = client.post(
            introspect_url, {"token": value}, **basic_auth(resource_server.client_id, SECRET)
        )
        assert response.status_code == 200
        assert response.json() == {"active": False}

    def test_expired_token_is_inactive(self, client, introspect_url, resource_server, alice):
        token = make_token(alice, resource_server, "expired", expires_in=-timedelta(seconds=1))
        response = client.get(
            introspect_url, {"token": token.token}, **basic_auth(resource_server.client_id, SECRET)
        )
        assert response.json() == {"active": False}

    def test_non_ascii_token_is_found_by_its_checksum(self, client, introspect_url, resource_server, alice):
        token = make_token(alice, resource_server, "jeton-été")
        response = client.post(
            introspect_url, {"token": token.token}, **basic_auth(resource_server.client_id, SECRET)
        )
        assert response.json()["active"] is True

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_missing_token_parameter_is_an_invalid_request(
        self, client, introspect_url, resource_server, method
    ):
        response = getattr(client, method)(introspect_url, **basic_auth(resource_server.client_id, SECRET))
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
        assert response["Cache-Control"] == "no-store"

    def test_missing_token_straight_to_get_token_response(self):
        assert IntrospectTokenView.get_token_response().status_code == 400

    def test_wrong_secret_is_forbidden(self, client, introspect_url, resource_server, alice):
        token = make_token(alice, resource_server, "valid-token")
        basic = client.post(
            introspect_url, {"token": token.token}, **basic_auth(resource_server.client_id, "wrong")
        )
        body = client.post(
            introspect_url,
            {"token": token.token, "client_id": resource_server.client_id, "client_secret": "wrong"},
        )
        assert (basic.status_code, body.status_code) == (403, 403)

    def test_no_credentials_is_forbidden(self, client, introspect_url, resource_server, alice):
        token = make_token(alice, resource_server, "valid-token")
        assert client.post(introspect_url, {"token": token.token}).status_code == 403
        assert client.get(introspect_url).status_code == 403

    @pytest.mark.parametrize(
        "scope, expires_in",
        [("read write", timedelta(hours=1)), ("introspection", -timedelta(seconds=1))],
        ids=["without-introspection-scope", "expired"],
    )
    def test_unfit_bearer_is_forbidden(
        self, client, introspect_url, resource_server, alice, scope, expires_in
    ):
        token = make_token(alice, resource_server, "valid-token")
        caller = make_token(None, resource_server, "caller", scope=scope, expires_in=expires_in)
        assert client.post(introspect_url, {"token": token.token}, **bearer(caller)).status_code == 403

    def test_no_csrf_token_needed(self, introspect_url, resource_server, alice):
        token = make_token(alice, resource_server, "valid-token")
        client = Client(enforce_csrf_checks=True)
        response = client.post(
            introspect_url, {"token": token.token}, **basic_auth(resource_server.client_id, SECRET)
        )
        assert response.status_code == 200
