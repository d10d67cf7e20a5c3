"""``CLIENT_SECRET_HASHER`` (backport of upstream PR #1498): which hasher stores new client secrets.

Every test saves and authenticates applications in the real database of the run (tox's sqlite, postgres
and mysql environments), through the token endpoint a client calls.
"""

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password, identify_hasher
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from oauth2_provider.checks import check_client_secret_hasher
from oauth2_provider.models import get_application_model
from tests.flow_helpers import CLIENT_SECRET, FLOW_URLS, assert_oauth_error, basic_auth, post_token


pytestmark = pytest.mark.urls(FLOW_URLS)

Application = get_application_model()

MD5 = "django.contrib.auth.hashers.MD5PasswordHasher"
FAST_PBKDF2 = "tests.test_client_secret_hasher.FastPBKDF2Hasher"


class FastPBKDF2Hasher(PBKDF2PasswordHasher):
    """PBKDF2 with one iteration under an algorithm name of its own, as a project would configure it."""

    algorithm = "fast_pbkdf2"
    iterations = 1


class MissingLibraryHasher(PBKDF2PasswordHasher):
    """A hasher whose third-party library is not installed (as argon2 without argon2-cffi)."""

    algorithm = "needs_a_library"
    library = "tests_h15_no_such_hasher_library"


@pytest.fixture
def hashers(settings):
    """Our default MD5 hasher first (the tests' PASSWORD_HASHERS), the fast PBKDF2 one second."""
    settings.PASSWORD_HASHERS = [MD5, FAST_PBKDF2]


def stored_secret(application):
    return Application.objects.values_list("client_secret", flat=True).get(pk=application.pk)


def client_credentials(client, application, secret=CLIENT_SECRET):
    return post_token(client, {"grant_type": "client_credentials"}, basic_auth(application.client_id, secret))


@pytest.fixture
def make_service_app(make_app):
    def make(name="service", **fields):
        return make_app(
            name, authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS, redirect_uris="", **fields
        )

    return make


def test_by_default_the_first_password_hasher_stores_the_secret(hashers, make_service_app):
    application = make_service_app()

    assert identify_hasher(stored_secret(application)).algorithm == "md5"


def test_the_configured_hasher_stores_new_secrets(hashers, provider_settings, make_service_app):
    provider_settings(CLIENT_SECRET_HASHER="fast_pbkdf2")

    secret = stored_secret(make_service_app())

    assert secret.startswith("fast_pbkdf2$1$")
    assert check_password(CLIENT_SECRET, secret)


def test_a_generated_secret_is_stored_by_the_configured_hasher(hashers, provider_settings, resource_owner):
    provider_settings(CLIENT_SECRET_HASHER="fast_pbkdf2")
    application = Application(
        user=resource_owner,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    cleartext = application.client_secret
    application.save()

    assert identify_hasher(stored_secret(application)).algorithm == "fast_pbkdf2"
    assert check_password(cleartext, stored_secret(application))


def test_a_client_authenticates_with_a_secret_of_the_configured_hasher(
    client, hashers, provider_settings, make_service_app
):
    provider_settings(CLIENT_SECRET_HASHER="fast_pbkdf2")
    application = make_service_app()
    assert identify_hasher(stored_secret(application)).algorithm == "fast_pbkdf2"

    response = client_credentials(client, application)

    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "Bearer"


def test_secrets_stored_before_a_switch_keep_working_unchanged(
    client, hashers, provider_settings, make_service_app
):
    md5_app = make_service_app("stored by md5")
    clear_app = make_service_app("stored in clear", hash_client_secret=False)
    md5_hash = stored_secret(md5_app)

    provider_settings(CLIENT_SECRET_HASHER="fast_pbkdf2")
    pbkdf2_app = make_service_app("stored by fast_pbkdf2")

    for application in (md5_app, clear_app, pbkdf2_app):
        response = client_credentials(client, application)
        assert response.status_code == 200, (application.name, response.content)
    # Saving again neither hashes the old hash nor converts it to the new hasher.
    Application.objects.get(pk=md5_app.pk).save()
    assert stored_secret(md5_app) == md5_hash
    assert stored_secret(clear_app) == CLIENT_SECRET
    assert identify_hasher(stored_secret(pbkdf2_app)).algorithm == "fast_pbkdf2"


def test_a_wrong_secret_is_refused_with_the_configured_hasher(
    client, hashers, provider_settings, make_service_app
):
    provider_settings(CLIENT_SECRET_HASHER="fast_pbkdf2")
    application = make_service_app()
    assert identify_hasher(stored_secret(application)).algorithm == "fast_pbkdf2"

    for guess in ("", CLIENT_SECRET[:-1], CLIENT_SECRET + "x", CLIENT_SECRET.upper()):
        assert_oauth_error(client_credentials(client, application, guess), 401, "invalid_client")


def test_the_stored_hash_does_not_authenticate(client, hashers, provider_settings, make_service_app):
    # Someone who read the database sends what they found there as the secret.
    provider_settings(CLIENT_SECRET_HASHER="fast_pbkdf2")
    application = make_service_app()
    stored = stored_secret(application)
    assert identify_hasher(stored).algorithm == "fast_pbkdf2"

    assert_oauth_error(client_credentials(client, application, stored), 401, "invalid_client")


# System check oauth2_provider.E005


def hasher_errors():
    return [message for message in check_client_secret_hasher(None) if message.id == "oauth2_provider.E005"]


@pytest.mark.parametrize("name", ["default", "md5", "fast_pbkdf2"])
def test_a_hasher_of_password_hashers_passes_the_check(hashers, provider_settings, name):
    provider_settings(CLIENT_SECRET_HASHER=name)

    assert hasher_errors() == []


@pytest.mark.parametrize(
    "name",
    [
        "pbkdf2_sha256",  # a real Django hasher, but not in this project's PASSWORD_HASHERS
        "FastPBKDF2Hasher",  # the class name instead of its algorithm
        FAST_PBKDF2,  # the dotted path instead of the algorithm
        "",
        None,
        ["fast_pbkdf2"],
    ],
    ids=repr,
)
def test_a_name_outside_password_hashers_is_error_e005(hashers, provider_settings, name):
    provider_settings(CLIENT_SECRET_HASHER=name)

    [error] = hasher_errors()

    assert error.level == checks.ERROR
    assert f"CLIENT_SECRET_HASHER'] = {name!r} is not the algorithm of a hasher" in error.msg


def test_a_hasher_object_outside_password_hashers_is_error_e005(hashers, provider_settings):
    # make_password() would use it, but identify_hasher() would not recognise its hashes afterwards.
    provider_settings(CLIENT_SECRET_HASHER=MissingLibraryHasher())

    [error] = hasher_errors()

    assert "uses the algorithm 'needs_a_library', which no hasher in PASSWORD_HASHERS has" in error.msg


def test_a_hasher_without_its_library_is_error_e005(settings, provider_settings):
    settings.PASSWORD_HASHERS = [MD5, "tests.test_client_secret_hasher.MissingLibraryHasher"]
    provider_settings(CLIENT_SECRET_HASHER="needs_a_library")

    [error] = hasher_errors()

    assert "needs the 'tests_h15_no_such_hasher_library' library, which cannot be imported" in error.msg


def test_manage_py_check_stops_on_an_unknown_hasher(hashers, provider_settings):
    provider_settings(CLIENT_SECRET_HASHER="sha1_typo")

    with pytest.raises(SystemCheckError, match=r"oauth2_provider\.E005"):
        call_command("check")
