"""Each mixed install a project can reach, detected, and left by the recovery of docs/install.rst.

Mixed states are made the way projects make them: a dependent brings upstream after this package, the
README's old swap removes upstream from under it, this package goes over upstream, a mix is migrated.
"""

import pytest

from .conftest import recipe, run


LATER_UPSTREAM = "django-oauth-toolkit==3.4.1"


@pytest.fixture
def requirements(index_url, tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text(recipe("requirements.txt", index_url))
    return path


def recover(venv, requirements):
    """The recovery of docs/install.rst: remove both distributions, then install the requirements again."""
    venv.pip("uninstall", "-y", "django-oauth-toolkit", "django-oauth-toolkit-lts")
    venv.pip("install", "-r", requirements)


def assert_recovered(venv, release, database):
    assert list(venv.owners()) == ["django-oauth-toolkit-lts"]
    assert venv.version() == release[0]
    assert "No broken requirements found." in venv.pip("check").stdout
    venv.site("migrate", "-v0", database=database)
    assert (
        "no issues"
        in venv.site("check", "--database", "default", "--fail-level", "WARNING", database=database).stdout
    )
    assert "application saved" in venv.site("new-application", database=database).stdout


def install_upstream_over_us(venv, index_url):
    """A dependent's requirement on django-oauth-toolkit resolved without the stand-in, after us."""
    venv.pip("install", "--extra-index-url", index_url, "django-oauth-toolkit-lts")
    venv.pip("install", LATER_UPSTREAM)
    assert sorted(venv.owners()) == ["django-oauth-toolkit", "django-oauth-toolkit-lts"]


def test_upstream_installed_over_this_package(venv, index_url, requirements, release, tmp_path):
    install_upstream_over_us(venv, index_url)
    # Upstream's files won: our checks are gone with ours, the version says so.
    assert venv.version() == "3.4.1"

    recover(venv, requirements)

    assert_recovered(venv, release, tmp_path / "db")


def test_upstream_removed_from_under_this_package(venv, index_url, requirements, release, tmp_path):
    install_upstream_over_us(venv, index_url)
    venv.pip("uninstall", "-y", "django-oauth-toolkit")
    # The shared files went with upstream: what is left imports as an empty namespace package.
    assert run(venv.python, "-c", "import oauth2_provider.models", check=False).returncode != 0

    recover(venv, requirements)

    assert_recovered(venv, release, tmp_path / "db")


def test_this_package_installed_over_upstream_is_warned_about(
    venv, index_url, requirements, release, tmp_path
):
    venv.pip("install", LATER_UPSTREAM)
    venv.pip("install", "--extra-index-url", index_url, "django-oauth-toolkit-lts")

    warned = venv.site("check", "--fail-level", "WARNING", database=tmp_path / "db", check=False)

    assert warned.returncode != 0
    assert "oauth2_provider.W001" in warned.stderr
    assert (
        "the django-oauth-toolkit distribution (3.4.1) installs files into oauth2_provider" in warned.stderr
    )
    # Upstream's later migrations lie in our migrations folder, and Django would load them.
    assert "oauth2_provider/migrations/0013_" in warned.stderr

    recover(venv, requirements)

    assert_recovered(venv, release, tmp_path / "db")


def test_a_migrated_mix_goes_back_to_0012_before_the_recovery(
    venv, index_url, requirements, release, tmp_path
):
    database = tmp_path / "db"
    install_upstream_over_us(venv, index_url)
    venv.site("migrate", "-v0", database=database)

    # Cleaned up without going back first: the database keeps upstream's later migrations, and we say so.
    recover(venv, requirements)
    warned = venv.site("check", "--database", "default", database=database, check=False)
    assert "oauth2_provider.W003" in warned.stderr
    assert "0013_" in warned.stderr

    # As the warning's hint says: upstream again, back to 0012 with it, then the recovery.
    venv.pip("install", LATER_UPSTREAM)
    venv.site("migrate", "oauth2_provider", "0012_add_token_checksum", "-v0", database=database)
    recover(venv, requirements)

    assert_recovered(venv, release, database)
