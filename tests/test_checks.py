"""System checks: token models on one database (E), upstream distribution installed beside us (W001)."""

import importlib
import sys

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from oauth2_provider import __version__
from oauth2_provider.checks import validate_token_configuration


class AccessTokensElsewhereRouter:
    """Sends access token writes to the ``other`` database, everything else to the default one."""

    def db_for_write(self, model, **hints):
        if model._meta.label == "oauth2_provider.AccessToken":
            return "other"
        return None


class AllTokensElsewhereRouter:
    """Sends the writes of every token model to the ``other`` database."""

    token_models = {"oauth2_provider.AccessToken", "oauth2_provider.IDToken", "oauth2_provider.RefreshToken"}

    def db_for_write(self, model, **hints):
        if model._meta.label in self.token_models:
            return "other"
        return None


def messages_with_id(check_id, tags):
    return [message for message in checks.run_checks(tags=tags) if message.id == check_id]


def test_token_models_on_one_database_pass():
    assert validate_token_configuration(None) == []


def test_token_models_split_across_databases_are_an_error(settings):
    settings.DATABASE_ROUTERS = ["tests.test_checks.AccessTokensElsewhereRouter"]
    errors = checks.run_checks(tags=[checks.Tags.models])
    assert errors == [checks.Error("The token models are expected to be stored in the same database.")]


def test_a_plain_manage_py_check_reports_token_models_split_across_databases(settings):
    # What a project runs. Django 6.1 leaves database-tagged checks out of it unless --database is given.
    settings.DATABASE_ROUTERS = ["tests.test_checks.AccessTokensElsewhereRouter"]
    with pytest.raises(
        SystemCheckError, match="The token models are expected to be stored in the same database"
    ):
        call_command("check")


def test_token_models_together_outside_the_default_database_pass(settings):
    settings.DATABASE_ROUTERS = ["tests.test_checks.AllTokensElsewhereRouter"]
    assert validate_token_configuration(None) == []


@pytest.fixture
def upstream_distribution_installed(tmp_path):
    """Makes the metadata of django-oauth-toolkit 3.0.1 visible to importlib.metadata, as pip leaves it."""
    dist_info = tmp_path / "django_oauth_toolkit-3.0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: django-oauth-toolkit\nVersion: 3.0.1\n", encoding="utf-8"
    )
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    yield
    sys.path.remove(str(tmp_path))
    importlib.invalidate_caches()


def test_no_warning_without_the_upstream_distribution():
    assert messages_with_id("oauth2_provider.W001", [checks.Tags.compatibility]) == []


@pytest.mark.usefixtures("upstream_distribution_installed")
def test_warning_when_the_upstream_distribution_is_installed_too():
    (warning,) = messages_with_id("oauth2_provider.W001", [checks.Tags.compatibility])
    assert warning.level == checks.WARNING
    assert "django-oauth-toolkit distribution (3.0.1)" in warning.msg
    assert warning.hint.endswith(
        "pip uninstall -y django-oauth-toolkit django-oauth-toolkit-lts"
        f" && pip install django-oauth-toolkit-lts=={__version__}"
    )


# Upstream #483: a zero or negative access token lifetime issues tokens stored as expired while the
# response announces them valid (oauthlib reads 0 as unset and answers expires_in 3600).


@pytest.mark.parametrize("lifetime", [0, -60, "3600", None])
def test_an_access_token_lifetime_that_is_not_positive_seconds_is_error_e007(settings, lifetime):
    settings.OAUTH2_PROVIDER = {"ACCESS_TOKEN_EXPIRE_SECONDS": lifetime}
    with pytest.raises(SystemCheckError, match=r"oauth2_provider\.E007.*ACCESS_TOKEN_EXPIRE_SECONDS"):
        call_command("check")


@pytest.mark.parametrize("lifetime", [36000, 1, 0.5])
def test_a_positive_access_token_lifetime_passes(settings, lifetime):
    settings.OAUTH2_PROVIDER = {"ACCESS_TOKEN_EXPIRE_SECONDS": lifetime}
    assert messages_with_id("oauth2_provider.E007", None) == []


# Upstream #1816 (PR #1817): reuse protection recognises a replay by a refresh token rotation replaced.


def test_reuse_protection_without_rotation_is_warning_w005(settings):
    settings.OAUTH2_PROVIDER = {"REFRESH_TOKEN_REUSE_PROTECTION": True, "ROTATE_REFRESH_TOKEN": False}
    [warning] = messages_with_id("oauth2_provider.W005", None)
    assert "ROTATE_REFRESH_TOKEN is off" in warning.msg


@pytest.mark.parametrize(("protection", "rotation"), [(True, True), (False, False), (False, True)])
def test_reuse_protection_with_rotation_or_off_passes(settings, protection, rotation):
    settings.OAUTH2_PROVIDER = {
        "REFRESH_TOKEN_REUSE_PROTECTION": protection,
        "ROTATE_REFRESH_TOKEN": rotation,
    }
    assert messages_with_id("oauth2_provider.W005", None) == []
