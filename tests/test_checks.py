"""System checks: token models on one database (E), mixed installs (W001, W003), hostile settings."""

import importlib
import sys

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from oauth2_provider import __version__
from oauth2_provider._installation import standin_version
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


def install_distribution(site, name, version, files):
    """Leave the metadata pip leaves for ``name`` in ``site``: a RECORD listing ``files``."""
    dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    record = [*files, f"{dist_info.name}/METADATA,,", f"{dist_info.name}/RECORD,,"]
    (dist_info / "RECORD").write_text("".join(f"{line}\n" for line in record))


@pytest.fixture
def site_directory(tmp_path):
    """A directory on sys.path whose distributions importlib.metadata sees, as another site-packages."""
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    yield tmp_path
    sys.path.remove(str(tmp_path))
    importlib.invalidate_caches()


def test_no_warning_without_the_upstream_distribution():
    assert messages_with_id("oauth2_provider.W001", [checks.Tags.compatibility]) == []


def test_warning_when_the_upstream_distribution_owns_files_of_the_package(site_directory):
    # What pip leaves when a dependent brings django-oauth-toolkit 3.4.1 after this package.
    install_distribution(
        site_directory,
        "django-oauth-toolkit",
        "3.4.1",
        ["oauth2_provider/__init__.py,sha256=AAAA,22", "oauth2_provider/migrations/0013_x.py,sha256=BBBB,10"],
    )

    (warning,) = messages_with_id("oauth2_provider.W001", [checks.Tags.compatibility])

    assert warning.level == checks.WARNING
    assert "the django-oauth-toolkit distribution (3.4.1) installs files into oauth2_provider" in warning.msg
    assert (
        "pip uninstall -y django-oauth-toolkit django-oauth-toolkit-lts`, then "
        f"`pip install django-oauth-toolkit-lts=={__version__}`"
    ) in warning.hint
    assert f"django-oauth-toolkit=={standin_version(__version__)}" in warning.hint


def test_the_stand_in_named_django_oauth_toolkit_is_no_mixed_install(site_directory):
    # The stand-in has upstream's name and no file in the package: nothing to warn about.
    install_distribution(site_directory, "django-oauth-toolkit", standin_version(__version__), [])

    assert messages_with_id("oauth2_provider.W001", [checks.Tags.compatibility]) == []


@pytest.mark.parametrize(
    ("release", "standin"),
    [("3.0.1.post3", "3.0.1+lts.3"), ("3.0.1.post12", "3.0.1+lts.12")],
)
def test_the_stand_in_version_satisfies_what_3_0_1_satisfies(release, standin):
    assert standin_version(release) == standin
    version = Version(standin)
    for requirement in ["==3.0.1", ">=2.0.0", "<=3.0.1", "~=3.0", ">=3.0,<3.1", "<3.1", "!=3.0.0"]:
        assert SpecifierSet(requirement).contains("3.0.1") is SpecifierSet(requirement).contains(version)
    for requirement in [">=3.4", "==3.4.0", ">3.0.1", "<3.0.1", "!=3.0.1"]:
        assert not SpecifierSet(requirement).contains(version)


@pytest.mark.parametrize("release", ["3.0.1", "3.0.1.dev1", "3.0.1.post", "4"])
def test_no_stand_in_version_for_what_is_not_a_release_of_this_line(release):
    with pytest.raises(ValueError, match="is not a release of this line"):
        standin_version(release)


@pytest.mark.django_db
def test_migrations_of_a_later_upstream_recorded_in_the_database_are_warned_about():
    # What `migrate` with django-oauth-toolkit 3.4.1 records before the site comes back to this package.
    recorder = MigrationRecorder(connection)
    recorder.record_applied("oauth2_provider", "0013_alter_application_authorization_grant_type")
    recorder.record_applied("oauth2_provider", "0022_refreshtoken_token_family_index")

    warnings = [m for m in checks.run_checks(databases=["default"]) if m.id == "oauth2_provider.W003"]

    assert [w.level for w in warnings] == [checks.WARNING]
    assert "0013_alter_application_authorization_grant_type, 0022_refreshtoken_token_family_index" in (
        warnings[0].msg
    )
    assert "migrate oauth2_provider 0012_add_token_checksum" in warnings[0].hint


@pytest.mark.django_db
def test_our_own_applied_migrations_are_not_warned_about():
    assert [m for m in checks.run_checks(databases=["default"]) if m.id == "oauth2_provider.W003"] == []


# Settings a project may really have, each wrong in its own way: every check of ours reports on them (or
# has nothing to say), none raises out of `manage.py check`.
HOSTILE_SETTINGS = [
    {"PASSWORD_HASHERS": ["django.contrib.auth.hashers.NoSuchPasswordHasher"]},
    {"PASSWORD_HASHERS": ["no_such_package.hashers.Hasher"]},
    {"PASSWORD_HASHERS": ["nodots"]},
    {"PASSWORD_HASHERS": [42]},
    {"PASSWORD_HASHERS": None},
    {"OAUTH2_PROVIDER": {"ACCESS_TOKEN_MODEL": "no_such_app.AccessToken"}},
    {"OAUTH2_PROVIDER": {"REFRESH_TOKEN_MODEL": "not a label"}},
    {"OAUTH2_PROVIDER": {"ID_TOKEN_MODEL": None}},
    *(
        {"OAUTH2_PROVIDER": {key: value}}
        for key in [
            "CLIENT_SECRET_HASHER",
            "TOKEN_CHECKSUM_BATCH_SIZE",
            "TOKEN_CHECKSUM_BATCH_INTERVAL",
            "CLEAR_EXPIRED_TOKENS_BATCH_SIZE",
            "CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL",
            "REPLICA_LAG_DATABASES",
            "REPLICA_LAG_MAX_SECONDS",
            "TOKEN_CHECKSUM_MIGRATION_LOCK_TIMEOUT",
        ]
        for value in [None, "", "x", -1, 1.5, float("nan"), [], {}, object()]
    ),
    {"OAUTH2_PROVIDER": {"REPLICA_LAG_DATABASES": [None, ["default"], {"a": 1}, "no-such-alias"]}},
]


def our_checks():
    registered = checks.registry.registry.get_checks(include_deployment_checks=True)
    return [check for check in registered if check.__module__ == "oauth2_provider.checks"]


@pytest.mark.django_db
@pytest.mark.parametrize("overrides", HOSTILE_SETTINGS, ids=repr)
def test_every_check_survives_a_wrong_setting(settings, overrides):
    for name, value in overrides.items():
        setattr(settings, name, value)

    for check in our_checks():
        messages = check(None, databases=["default"])
        assert all(isinstance(message, checks.CheckMessage) for message in messages), check


def test_a_removed_password_hasher_is_a_warning_not_a_crash(settings):
    # drf-spectacular's test settings still list SHA1PasswordHasher, which Django 5.1 removed.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.NoSuchPasswordHasher",
    ]

    call_command("check")
    warnings = [m for m in checks.run_checks() if m.id == "oauth2_provider.W004"]

    assert [w.level for w in warnings] == [checks.WARNING]
    assert "NoSuchPasswordHasher" in warnings[0].msg


def test_a_token_model_setting_naming_no_model_is_error_e006(provider_settings):
    provider_settings(REFRESH_TOKEN_MODEL="no_such_app.RefreshToken")

    [error] = [m for m in checks.run_checks(tags=[checks.Tags.models]) if m.id == "oauth2_provider.E006"]

    assert error.level == checks.ERROR
    assert (
        "OAUTH2_PROVIDER['REFRESH_TOKEN_MODEL'] = 'no_such_app.RefreshToken' is not an installed model"
        in (error.msg)
    )


@pytest.mark.parametrize(
    "value, problem",
    [
        ({"REPLICA_LAG_DATABASES": "replica"}, "must be a list of DATABASES aliases, not 'replica'"),
        ({"REPLICA_LAG_DATABASES": ["default", "replica"]}, "not in DATABASES: 'replica'"),
        ({"REPLICA_LAG_MAX_SECONDS": 0}, "REPLICA_LAG_MAX_SECONDS'] must be a number of seconds above 0"),
        ({"REPLICA_LAG_MAX_SECONDS": "1"}, "REPLICA_LAG_MAX_SECONDS'] must be a number of seconds above 0"),
    ],
)
def test_replica_lag_settings_that_cannot_work_are_error_e008(settings, value, problem):
    settings.OAUTH2_PROVIDER = value
    [error] = [m for m in checks.run_checks() if m.id == "oauth2_provider.E008"]
    assert problem in error.msg


def test_replicas_that_are_databases_of_the_project_pass(settings):
    settings.OAUTH2_PROVIDER = {"REPLICA_LAG_DATABASES": ["default"], "REPLICA_LAG_MAX_SECONDS": 0.25}
    assert messages_with_id("oauth2_provider.E008", None) == []


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
