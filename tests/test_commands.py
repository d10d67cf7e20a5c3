"""The createapplication and cleartokens management commands."""

import logging
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.utils import timezone

from oauth2_provider import _batching
from oauth2_provider.management.commands import createapplication
from oauth2_provider.models import AccessToken, Application, Grant, get_application_model


pytestmark = pytest.mark.django_db


def createapplication_output(*args):
    """What ``manage.py createapplication ARGS`` prints."""
    out = StringIO()
    call_command("createapplication", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.com", "password")


def test_command_module_exposes_the_application_model():
    assert createapplication.Application is get_application_model()


def test_minimal_application_is_created_with_a_generated_secret_shown_once():
    output = createapplication_output("confidential", "client-credentials")
    application = Application.objects.get()
    cleartext = output.splitlines()[1].removeprefix("client_secret: ")
    assert output == (
        f"New application {application.client_id} created successfully.\nclient_secret: {cleartext}\n"
    )
    assert len(cleartext) == 128
    assert check_password(cleartext, application.client_secret)
    assert application.client_type == Application.CLIENT_CONFIDENTIAL
    assert application.authorization_grant_type == Application.GRANT_CLIENT_CREDENTIALS
    assert len(application.client_id) == 40
    assert (application.user, application.name, application.redirect_uris) == (None, "", "")
    assert application.hash_client_secret is True
    assert application.skip_authorization is False
    assert application.algorithm == ""


def test_every_option_sets_its_field(user):
    output = createapplication_output(
        "confidential",
        "authorization-code",
        "--client-id=my-client",
        f"--user={user.pk}",
        "--redirect-uris=https://client.example/cb https://client.example/alt",
        "--post-logout-redirect-uris=https://client.example/bye",
        "--client-secret=my-secret",
        "--name=Billing",
        "--skip-authorization",
        "--algorithm=HS256",
    )
    # A secret that was given is not echoed back.
    assert output == "New application Billing created successfully.\n"
    application = Application.objects.get(client_id="my-client")
    assert application.user == user
    assert application.redirect_uris == "https://client.example/cb https://client.example/alt"
    assert application.post_logout_redirect_uris == "https://client.example/bye"
    assert check_password("my-secret", application.client_secret)
    assert application.name == "Billing"
    assert application.skip_authorization is True
    assert application.algorithm == Application.HS256_ALGORITHM


def test_given_secret_can_be_stored_unhashed():
    createapplication_output(
        "confidential", "password", "--client-secret=my-secret", "--no-hash-client-secret"
    )
    application = Application.objects.get()
    assert application.hash_client_secret is False
    assert application.client_secret == "my-secret"


def test_generated_secret_can_be_stored_unhashed():
    output = createapplication_output("confidential", "password", "--no-hash-client-secret")
    assert output.splitlines()[1] == f"client_secret: {Application.objects.get().client_secret}"


def test_rs256_application_with_a_signing_key(settings):
    settings.OAUTH2_PROVIDER = {"OIDC_RSA_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----"}
    createapplication_output("confidential", "client-credentials", "--algorithm=RS256", "--name=Signed")
    assert Application.objects.get(name="Signed").algorithm == Application.RS256_ALGORITHM


@pytest.mark.parametrize(
    ("args", "error_lines"),
    [
        (
            ["public", "authorization-code"],
            [" - redirect_uris: ['redirect_uris cannot be empty with grant_type authorization-code']"],
        ),
        (
            ["confidential", "client-credentials", "--algorithm=RS256"],
            [" - algorithm: ['You must set OIDC_RSA_PRIVATE_KEY to use RSA algorithm']"],
        ),
        (
            ["secretive", "magic"],
            [
                " - client_type: [\"Value 'secretive' is not a valid choice.\"]",
                " - authorization_grant_type: [\"Value 'magic' is not a valid choice.\"]",
            ],
        ),
        (
            ["confidential", "password", "--redirect-uris=ftp://client.example/cb"],
            [
                " - redirect_uris: ['redirect uri URI Validation error. invalid_scheme: ftp://client.example/cb']"
            ],
        ),
    ],
)
def test_invalid_application_is_reported_and_not_created(args, error_lines):
    output = createapplication_output(*args)
    assert output.splitlines() == ["Please correct the following errors:", *error_lines]
    assert not Application.objects.exists()


def test_unknown_user_pk_is_reported():
    output = createapplication_output("confidential", "password", "--user=999999")
    heading, error = output.splitlines()
    assert heading == "Please correct the following errors:"
    # Django 4.2 says "does not exist.", 5.0 and later "is not a valid choice.".
    assert error.startswith(" - user: ['user instance with id 999999 ")
    assert not Application.objects.exists()


def test_taken_client_id_is_reported():
    createapplication_output("confidential", "password", "--client-id=taken")
    output = createapplication_output("confidential", "password", "--client-id=taken")
    assert output.splitlines() == [
        "Please correct the following errors:",
        " - client_id: ['Application with this Client id already exists.']",
    ]
    assert Application.objects.count() == 1


def test_cleartokens_deletes_what_has_expired(user):
    application = Application.objects.create(
        user=user, client_type="confidential", authorization_grant_type="client-credentials"
    )
    now = timezone.now()
    for label, expires in (("expired", now - timedelta(seconds=1)), ("live", now + timedelta(hours=1))):
        Grant.objects.create(
            code=label, user=user, application=application, expires=expires, redirect_uri="https://c.example/"
        )
        AccessToken.objects.create(token=label, user=user, application=application, expires=expires)
    call_command("cleartokens")
    assert list(Grant.objects.values_list("code", flat=True)) == ["live"]
    assert list(AccessToken.objects.values_list("token", flat=True)) == ["live"]


def _expired_grants(user, count):
    application = Application.objects.create(
        user=user, client_type="confidential", authorization_grant_type="client-credentials"
    )
    expired = timezone.now() - timedelta(seconds=1)
    for number in range(count):
        Grant.objects.create(
            code=f"expired-{number}",
            user=user,
            application=application,
            expires=expired,
            redirect_uri="https://c.example/",
        )


def test_cleartokens_in_a_terminal_shows_progress_on_stderr(user, monkeypatch, capsys):
    monkeypatch.setattr(_batching, "PROGRESS_INTERVAL_SECONDS", 0)
    # As in a plain ``manage.py cleartokens``, no handler may receive the progress lines: pytest's are
    # on the root logger (and, from the start of each test phase, on loggers that do not propagate).
    monkeypatch.setattr(logging.getLogger("oauth2_provider._cleartokens"), "propagate", False)
    _expired_grants(user, 3)
    call_command("cleartokens")
    assert f"  {Grant._meta.label}: 3 rows deleted up to end of table, " in capsys.readouterr().err
    assert not Grant.objects.exists()


def test_cleartokens_leaves_its_progress_to_a_configured_handler(user, monkeypatch, capsys, caplog, settings):
    settings.OAUTH2_PROVIDER = {"REFRESH_TOKEN_EXPIRE_SECONDS": 3600}
    monkeypatch.setattr(_batching, "PROGRESS_INTERVAL_SECONDS", 0)
    caplog.set_level("INFO", logger="oauth2_provider._cleartokens")
    _expired_grants(user, 3)
    call_command("cleartokens")
    assert capsys.readouterr().err == ""
    assert any("3 rows deleted up to end of table" in r.getMessage() for r in caplog.records)


# Upstream #522 (PR #1793, 3.4.1): without a refresh token lifetime, cleartokens says what it has to keep.


@pytest.mark.parametrize("lifetime", [None, 0])
def test_cleartokens_warns_that_refresh_tokens_without_a_lifetime_are_kept(settings, lifetime):
    settings.OAUTH2_PROVIDER = {"REFRESH_TOKEN_EXPIRE_SECONDS": lifetime}
    stderr = StringIO()
    call_command("cleartokens", stderr=stderr)
    warning = stderr.getvalue()
    assert "REFRESH_TOKEN_EXPIRE_SECONDS is not set" in warning
    assert "expired access and ID tokens" in warning
    assert "REFRESH_TOKEN_REUSE_PROTECTION" not in warning


def test_cleartokens_warns_that_reuse_protection_keeps_every_revoked_refresh_token(settings):
    settings.OAUTH2_PROVIDER = {"REFRESH_TOKEN_REUSE_PROTECTION": True}
    stderr = StringIO()
    call_command("cleartokens", stderr=stderr)
    assert "every revoked refresh token (one per refresh)" in stderr.getvalue()


def test_cleartokens_is_silent_with_a_refresh_token_lifetime(settings):
    settings.OAUTH2_PROVIDER = {"REFRESH_TOKEN_EXPIRE_SECONDS": timedelta(days=30)}
    stderr = StringIO()
    call_command("cleartokens", stderr=stderr)
    assert stderr.getvalue() == ""
