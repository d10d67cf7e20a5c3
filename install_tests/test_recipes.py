"""The recipes of docs/install.rst, run as written, beside a real dependent of django-oauth-toolkit.

Each installs this package with the stand-in and drf-social-oauth2 (which requires django-oauth-toolkit)
and must leave: no file of upstream, ``oauth2_provider`` owned by django-oauth-toolkit-lts alone, a clean
``pip check`` and a clean ``manage.py check``.
"""

from .conftest import recipe, run


def assert_only_this_package(venv, release, tmp_path):
    version, standin = release
    assert venv.owners() == {"django-oauth-toolkit-lts": venv.owners()["django-oauth-toolkit-lts"]}
    assert venv.version() == version
    listed = venv.pip("list", "--format=freeze").stdout.splitlines()
    assert f"django-oauth-toolkit=={standin}" in listed
    assert "No broken requirements found." in venv.pip("check").stdout
    # Every check, database ones included: W001 would name files of another distribution.
    checked = venv.site("check", "--database", "default", "--fail-level", "WARNING", database=tmp_path / "db")
    assert "no issues" in checked.stdout


def test_pip_with_a_requirements_file(venv, index_url, release, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(recipe("requirements.txt", index_url))

    venv.pip("install", "-r", requirements)

    assert_only_this_package(venv, release, tmp_path)
    # A later `pip install -r` (what every deploy runs) keeps it that way.
    venv.pip("install", "-r", requirements)
    assert_only_this_package(venv, release, tmp_path)


def test_pip_tools_compile_and_sync(venv, index_url, release, tmp_path):
    venv.pip("install", "pip-tools")
    (tmp_path / "requirements.in").write_text(recipe("requirements.in", index_url))
    tools = venv.path / "bin"

    run(tools / "pip-compile", "--quiet", "requirements.in", cwd=tmp_path)
    compiled = (tmp_path / "requirements.txt").read_text()
    run(tools / "pip-sync", "requirements.txt", cwd=tmp_path)

    version, standin = release
    assert f"django-oauth-toolkit=={standin}" in compiled
    assert f"django-oauth-toolkit-lts=={version}" in compiled
    assert_only_this_package(venv, release, tmp_path)


def test_uv_project(venv, index_url, release, tmp_path):
    venv.pip("install", "uv")
    project = tmp_path / "site"
    project.mkdir()
    (project / "pyproject.toml").write_text(recipe("uv-pyproject.toml", index_url))

    run(
        venv.path / "bin" / "uv",
        "sync",
        "--python",
        venv.python,
        cwd=project,
        env={"UV_PROJECT_ENVIRONMENT": venv.path},
    )

    version, standin = release
    lock = (project / "uv.lock").read_text()
    assert f'name = "django-oauth-toolkit"\nversion = "{standin}"' in lock
    assert_only_this_package(venv, release, tmp_path)


def test_poetry_project(venv, index_url, release, tmp_path):
    tool = type(venv)(tmp_path / "poetry")
    tool.pip("install", "poetry>=2")
    project = tmp_path / "site"
    project.mkdir()
    (project / "pyproject.toml").write_text(recipe("poetry-pyproject.toml", index_url))
    poetry = tool.path / "bin" / "poetry"
    # Poetry installs into the active virtual environment, the site's. A cache of its own: every session
    # builds the wheels anew, and Poetry would take a previous session's from its cache by their name.
    env = {
        "VIRTUAL_ENV": str(venv.path),
        "POETRY_VIRTUALENVS_CREATE": "false",
        "POETRY_CACHE_DIR": str(tmp_path / "poetry-cache"),
    }

    run(poetry, "lock", cwd=project, env=env)
    run(poetry, "install", "--no-interaction", cwd=project, env=env)

    version, standin = release
    assert f'name = "django-oauth-toolkit"\nversion = "{standin}"' in (project / "poetry.lock").read_text()
    assert_only_this_package(venv, release, tmp_path)


# allianceauth-oidc-provider 0.0.3 requires django-oauth-toolkit==3.4.0, a release this line cannot be.
NEEDS_A_LATER_UPSTREAM = "allianceauth-oidc-provider==0.0.3"


def test_a_dependent_needing_a_later_upstream_is_refused_by_pip(venv, index_url, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(recipe("requirements.txt", index_url) + f"{NEEDS_A_LATER_UPSTREAM}\n")

    refused = venv.pip("install", "-r", requirements, check=False)

    said = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert "ResolutionImpossible" in said
    assert "depends on django-oauth-toolkit==3.4.0" in said
    assert venv.owners() == {}
