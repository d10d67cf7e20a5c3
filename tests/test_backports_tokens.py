"""Security fixes of upstream 3.4.1 about the life of tokens, found by running its own test suite.

A refresh token past its lifetime, or whose access token is gone, is refused where it is used (#746);
revoking an access token revokes its refresh token (RFC 7009 section 2.1); an application that is no longer
usable loses its tokens (#1260); reuse protection revokes a family set-based (#1809); the DRF permission
classes refuse, rather than crash on, a request authenticated by another class (#1169).
"""

import logging
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth2_provider.contrib.rest_framework import (
    IsAuthenticatedOrTokenHasScope,
    OAuth2Authentication,
    TokenHasScope,
    TokenMatchesOASRequirements,
)
from oauth2_provider.models import get_access_token_model, get_application_model, get_refresh_token_model
from oauth2_provider.views.generic import ProtectedResourceView
from tests.flow_helpers import (
    access_token_row,
    assert_oauth_error,
    issued_tokens,
    refresh,
    refresh_token_row,
    revoke,
)


AccessToken = get_access_token_model()
Application = get_application_model()
RefreshToken = get_refresh_token_model()


class ProtectedView(ProtectedResourceView):
    def get(self, request):
        return HttpResponse("protected")


class OtherCredentials(BaseAuthentication):
    """An authentication class of the project that puts its own credentials (a string) in request.auth."""

    def authenticate(self, request):
        return get_user_model().objects.get(username="alice"), "an API key of another kind"


class ScopedByOtherCredentials(APIView):
    authentication_classes = [OtherCredentials]
    permission_classes = [TokenHasScope]
    required_scopes = ["read"]

    def get(self, request):
        return Response("in")


class AlternativesByOtherCredentials(ScopedByOtherCredentials):
    permission_classes = [TokenMatchesOASRequirements]
    required_alternate_scopes = {"GET": [["read"]]}


class EitherTokenOrOtherCredentials(ScopedByOtherCredentials):
    """``TokenHasScope`` composed with ``|``: the other credentials must be able to get in."""

    authentication_classes = [OtherCredentials, OAuth2Authentication]
    permission_classes = [TokenHasScope | IsAuthenticatedOrTokenHasScope]


urlpatterns = [
    path("o/", include("oauth2_provider.urls")),
    path("protected/", ProtectedView.as_view()),
    path("drf-scoped/", ScopedByOtherCredentials.as_view()),
    path("drf-alternatives/", AlternativesByOtherCredentials.as_view()),
    path("drf-either/", EitherTokenOrOtherCredentials.as_view()),
]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


@pytest.fixture
def tokens(signed_in_client, code_app, without_pkce):
    return issued_tokens(signed_in_client, code_app)


def age_access_token(value, seconds):
    """Make the access token with this value have expired ``seconds`` ago."""
    AccessToken.objects.filter(pk=access_token_row(value).pk).update(
        expires=timezone.now() - timedelta(seconds=seconds)
    )


# Upstream #746: REFRESH_TOKEN_EXPIRE_SECONDS enforced when the refresh token is used


@pytest.mark.parametrize("lifetime", [600, timedelta(minutes=10)], ids=["seconds", "timedelta"])
def test_refresh_token_past_its_lifetime_is_refused(client, code_app, tokens, provider_settings, lifetime):
    provider_settings(REFRESH_TOKEN_EXPIRE_SECONDS=lifetime)
    age_access_token(tokens["access_token"], 601)

    assert_oauth_error(refresh(client, code_app, tokens["refresh_token"]), 400, "invalid_grant")
    # Nothing new was issued from it.
    assert AccessToken.objects.count() == 1


def test_refresh_token_at_the_end_of_its_lifetime_is_refused(client, code_app, tokens, provider_settings):
    provider_settings(REFRESH_TOKEN_EXPIRE_SECONDS=600)
    age_access_token(tokens["access_token"], 600)
    assert_oauth_error(refresh(client, code_app, tokens["refresh_token"]), 400, "invalid_grant")


@pytest.mark.parametrize("lifetime", [600, None, 0], ids=["inside", "unset", "zero"])
def test_refresh_token_inside_its_lifetime_still_refreshes(
    client, code_app, tokens, provider_settings, lifetime
):
    provider_settings(REFRESH_TOKEN_EXPIRE_SECONDS=lifetime)
    age_access_token(tokens["access_token"], 590)
    assert refresh(client, code_app, tokens["refresh_token"]).status_code == 200


@pytest.mark.parametrize("lifetime", [600, None], ids=["lifetime set", "lifetime unset"])
def test_refresh_token_whose_access_token_was_deleted_is_refused(
    client, code_app, tokens, provider_settings, lifetime
):
    """The access token was deleted out of band (by an operator, a script): the refresh token must not
    bring it back."""
    provider_settings(REFRESH_TOKEN_EXPIRE_SECONDS=lifetime)
    access_token_row(tokens["access_token"]).delete()

    assert_oauth_error(refresh(client, code_app, tokens["refresh_token"]), 400, "invalid_grant")
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("value", ["one hour", -1, timedelta(seconds=-1), 10**20])
def test_a_bad_refresh_token_lifetime_is_improperly_configured(
    client, code_app, tokens, provider_settings, value
):
    provider_settings(REFRESH_TOKEN_EXPIRE_SECONDS=value)
    with pytest.raises(ImproperlyConfigured, match="^REFRESH_TOKEN_EXPIRE_SECONDS must"):
        refresh(client, code_app, tokens["refresh_token"])


# RFC 7009 section 2.1: revoking an access token revokes the refresh token issued with it


@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token"])
def test_revoking_the_access_token_revokes_its_refresh_token(client, code_app, tokens, hint):
    assert revoke(client, code_app, tokens["access_token"], hint).status_code == 200

    assert access_token_row(tokens["access_token"]) is None
    assert refresh_token_row(tokens["refresh_token"]).revoked is not None
    assert_oauth_error(refresh(client, code_app, tokens["refresh_token"]), 400, "invalid_grant")


def test_revoking_the_access_token_leaves_the_clients_other_tokens(
    client, code_app, tokens, signed_in_client
):
    other = issued_tokens(signed_in_client, code_app)
    revoke(client, code_app, tokens["access_token"])

    assert access_token_row(other["access_token"]) is not None
    assert refresh(client, code_app, other["refresh_token"]).status_code == 200


# Upstream #1260: the tokens of an application that is no longer usable are refused


def test_tokens_of_an_application_that_is_not_usable_are_refused(client, code_app, tokens, monkeypatch):
    """``is_usable()`` is the hook a project's Application model overrides to disable a client."""
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access_token']}"}
    assert client.get("/protected/", **bearer).status_code == 200

    monkeypatch.setattr(Application, "is_usable", lambda self, request: self.pk != code_app.pk)
    response = client.get("/protected/", **bearer)

    assert response.status_code == 403


def test_a_usable_applications_tokens_still_work_beside_a_disabled_one(
    client, code_app, tokens, make_app, signed_in_client, monkeypatch
):
    other_app = make_app("other")
    other = issued_tokens(signed_in_client, other_app)
    monkeypatch.setattr(Application, "is_usable", lambda self, request: self.pk != code_app.pk)

    assert client.get("/protected/", HTTP_AUTHORIZATION=f"Bearer {other['access_token']}").status_code == 200


# Upstream #1809: reuse protection revokes a family set-based, at a cost independent of its size


def family_of(refresh_token_value, size):
    """Grow the family of ``refresh_token_value`` to ``size`` members with rotated-away (revoked) rows."""
    live = refresh_token_row(refresh_token_value)
    for number in range(size - 1):
        RefreshToken.objects.create(
            user=live.user,
            application=live.application,
            token=f"rotated-away-{uuid.uuid4()}-{number}",
            token_family=live.token_family,
            revoked=timezone.now(),
        )
    return live.token_family


def replay_statements(client, code_app, signed_in_client, family_size):
    """Statements the replay of a stale refresh token costs in a family of ``family_size``."""
    first = issued_tokens(signed_in_client, code_app)
    assert refresh(client, code_app, first["refresh_token"]).status_code == 200
    family = family_of(first["refresh_token"], family_size - 1)
    with CaptureQueriesContext(connection) as statements:
        assert_oauth_error(refresh(client, code_app, first["refresh_token"]), 400, "invalid_grant")
    assert not RefreshToken.objects.filter(token_family=family, revoked__isnull=True).exists()
    assert not AccessToken.objects.filter(refresh_token__token_family=family).exists()
    return len(statements)


def test_revoking_a_family_costs_the_same_statements_whatever_its_size(
    client, code_app, signed_in_client, without_pkce, provider_settings
):
    provider_settings(REFRESH_TOKEN_REUSE_PROTECTION=True)
    assert replay_statements(client, code_app, signed_in_client, 3) == replay_statements(
        client, code_app, signed_in_client, 31
    )


def test_a_revoked_family_is_what_revoking_each_member_leaves(
    client, code_app, signed_in_client, without_pkce, provider_settings
):
    """Every live member revoked with ``updated`` set, every access token of the family deleted, the
    other families untouched."""
    provider_settings(REFRESH_TOKEN_REUSE_PROTECTION=True)
    bystander = issued_tokens(signed_in_client, code_app)
    first = issued_tokens(signed_in_client, code_app)
    second = refresh(client, code_app, first["refresh_token"]).json()
    before = timezone.now()

    assert_oauth_error(refresh(client, code_app, first["refresh_token"]), 400, "invalid_grant")

    replaced = refresh_token_row(second["refresh_token"])
    assert replaced.revoked >= before and replaced.updated >= before and replaced.access_token is None
    assert access_token_row(second["access_token"]) is None
    assert refresh(client, code_app, bystander["refresh_token"]).status_code == 200


def test_a_family_with_two_live_members_of_one_value_is_still_revoked(
    client, code_app, signed_in_client, without_pkce, provider_settings
):
    """One shared ``revoked`` time cannot cover both under the (token, revoked) uniqueness: row by row."""
    provider_settings(REFRESH_TOKEN_REUSE_PROTECTION=True)
    first = issued_tokens(signed_in_client, code_app)
    second = refresh(client, code_app, first["refresh_token"]).json()
    live = refresh_token_row(second["refresh_token"])
    RefreshToken.objects.create(
        user=live.user, application=live.application, token=live.token, token_family=live.token_family
    )

    assert_oauth_error(refresh(client, code_app, first["refresh_token"]), 400, "invalid_grant")
    assert not RefreshToken.objects.filter(token_family=live.token_family, revoked__isnull=True).exists()


def test_a_model_whose_revoke_does_more_is_revoked_row_by_row(
    client, code_app, signed_in_client, without_pkce, provider_settings, monkeypatch
):
    """A project's refresh token model may override ``revoke()``: each member still goes through it."""
    provider_settings(REFRESH_TOKEN_REUSE_PROTECTION=True)
    first = issued_tokens(signed_in_client, code_app)
    second = refresh(client, code_app, first["refresh_token"]).json()
    revoked_by_override = []
    shipped_revoke = RefreshToken.revoke

    def revoke_and_record(self):
        revoked_by_override.append(self.token)
        shipped_revoke(self)

    monkeypatch.setattr(RefreshToken, "revoke", revoke_and_record)
    assert_oauth_error(refresh(client, code_app, first["refresh_token"]), 400, "invalid_grant")

    assert sorted(revoked_by_override) == sorted([first["refresh_token"], second["refresh_token"]])


# Upstream #1169: DRF permission classes and credentials of another authentication class


@pytest.mark.parametrize("url", ["/drf-scoped/", "/drf-alternatives/"])
def test_drf_permission_refuses_credentials_of_another_class(client, resource_owner, url, caplog):
    with caplog.at_level(logging.WARNING, logger="oauth2_provider"):
        response = client.get(url)

    assert response.status_code == 403
    assert "`oauth2_provider.contrib.rest_framework.OAuth2Authentication`" in caplog.text


def test_drf_permission_composes_with_another_class(client, resource_owner):
    """``TokenHasScope | IsAuthenticatedOrTokenHasScope``: the second lets the user of the other class in."""
    assert client.get("/drf-either/").status_code == 200
