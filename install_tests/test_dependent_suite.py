"""A real dependent's own test suite on this package, installed the documented way, and on DOT 3.0.1.

drf-social-oauth2 3.3.0 is the newest release whose sdist ships its tests; it requires
django-oauth-toolkit. Its tests are fetched from that sdist at test time (never committed) and run on
PostgreSQL, as its settings ask, once beside this package with the stand-in and once beside upstream
DOT 3.0.1: every test must end the same way in both.
"""

import os
import tarfile
import xml.etree.ElementTree as ET

import pytest

from .conftest import recipe, run


DEPENDENT = "drf-social-oauth2==3.3.0"
# What its suite needs besides the package; social-auth-core 4.6 removed names its tests import.
TEST_REQUIREMENTS = [
    "social-auth-core<4.6",
    "social-auth-app-django<5.5",
    "django>=5.2,<6",
    "pytest",
    "pytest-django",
    "pytest-mock",
    "model-bakery",
    "psycopg[binary]",
]
# Its test settings read the database from these variables.
DATABASE = {
    "HOST": os.environ.get("DOT_TEST_PG_HOST", "127.0.0.1"),
    "PORT": os.environ.get("DOT_TEST_PG_PORT", "5432"),
    "POSTGRES_USER": os.environ.get("DOT_TEST_PG_USER", "postgres"),
    "POSTGRES_PASSWORD": os.environ.get("DOT_TEST_PG_PASSWORD", ""),
    "POSTGRES_DB": "dot_lts_dependent",
}
# Its tests use the database without asking for it (their CI enables it elsewhere): a plugin of ours
# gives every test the `db` fixture, the same on both sides.
PLUGIN = """
import pytest


@pytest.fixture(autouse=True)
def _database_for_every_test(db):
    pass
"""


@pytest.fixture(scope="module")
def dependent_tests(tmp_path_factory, venv_factory):
    folder = tmp_path_factory.mktemp("dependent")
    downloader = venv_factory("downloader")
    downloader.pip("download", "--no-deps", "--no-binary", ":all:", DEPENDENT, "-d", folder)
    (sdist,) = folder.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(folder, filter="data")
    (root,) = (path for path in folder.iterdir() if path.is_dir())
    (root / "database_for_every_test.py").write_text(PLUGIN)
    return root


def outcomes(venv, tests, name):
    """``{test id: outcome}`` of the dependent's suite run with ``venv``."""
    report = tests / f"{name}.xml"
    run(
        venv.python,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-p",
        "database_for_every_test",
        "--ds=drf_social_oauth2.test_settings",
        f"--junitxml={report}",
        "tests",
        cwd=tests,
        env={**DATABASE, "PYTHONPATH": str(tests)},
        check=False,
    )
    results = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        ending = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        results[f"{case.get('classname')}::{case.get('name')}"] = ending[0] if ending else "passed"
    return results


def test_the_dependent_suite_ends_as_on_dot_3_0_1(venv_factory, index_url, dependent_tests, tmp_path):
    ours = venv_factory("ours")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(recipe("requirements.txt", index_url).replace("drf-social-oauth2", DEPENDENT))
    ours.pip("install", "-r", requirements, *TEST_REQUIREMENTS)
    assert list(ours.owners()) == ["django-oauth-toolkit-lts"]
    assert "No broken requirements found." in ours.pip("check").stdout

    upstream = venv_factory("upstream")
    upstream.pip("install", "django-oauth-toolkit==3.0.1", DEPENDENT, *TEST_REQUIREMENTS)

    on_ours = outcomes(ours, dependent_tests, "ours")
    on_upstream = outcomes(upstream, dependent_tests, "upstream")

    passed = sum(outcome == "passed" for outcome in on_ours.values())
    print(f"{DEPENDENT}: {passed} of {len(on_ours)} tests passed here, as on DOT 3.0.1")
    assert passed > len(on_ours) / 2
    assert on_ours == on_upstream
