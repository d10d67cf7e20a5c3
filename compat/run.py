"""Assemble the run folder and run pytest in it, isolated from this repository's own ``tests`` package."""

import importlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from compat import deviations
from compat.sdist import extract_test_files


COMPAT_DIR = Path(__file__).resolve().parent
REPO_ROOT = COMPAT_DIR.parent
FIXTURES_DIR = COMPAT_DIR / "fixtures"
PLUGIN_MODULE = "compat_report_plugin"

# The run folder is its own pytest rootdir: without this file pytest would walk up to our pyproject.toml
# and take our suite's configuration.
PYTEST_INI = f"""\
[pytest]
DJANGO_SETTINGS_MODULE = tests.settings
django_find_project = false
testpaths = tests
addopts = -p {PLUGIN_MODULE} -p no:cacheprovider
"""
# Modules that cannot be imported yet must not stop the others from running.
DEFAULT_PYTEST_ARGS = ["-q", "--tb=line", "--continue-on-collection-errors"]
# Environment that could put another tests package or settings module in front of the run folder's.
SCRUBBED_ENV = ("PYTHONPATH", "PYTHONSAFEPATH", "PYTHONSTARTUP", "DJANGO_SETTINGS_MODULE")


class IsolationError(RuntimeError):
    """The run did not import what it must: the run folder's tests package and our installed package."""


@dataclass
class RunResult:
    exit_code: int
    collected: int
    deselected: int
    outcomes: dict
    subtests: int
    unmatched_selection: list
    oauth2_provider_file: str
    oauth2_provider_version: str


def prepare(sdist, release, upstream_dir):
    """A fresh ``<upstream_dir>/<release>/`` holding upstream's test files beside our fixture modules."""
    run_dir = upstream_dir / release
    shutil.rmtree(run_dir, ignore_errors=True)
    tests_dir = run_dir / "tests"
    shutil.copytree(FIXTURES_DIR, tests_dir, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    clashes = [name for name in extract_test_files(sdist, tests_dir) if (FIXTURES_DIR / name).exists()]
    if clashes:
        raise IsolationError(f"upstream test files overwrote fixture modules of ours: {clashes}")
    (run_dir / "pytest.ini").write_text(PYTEST_INI)
    shutil.copyfile(COMPAT_DIR / "report_plugin.py", run_dir / f"{PLUGIN_MODULE}.py")
    return run_dir


def database_settings():
    """``DATABASES["default"]`` for the upstream run, from our own suite's settings (``DOT_TEST_DB``...).

    Server databases get an ``_upstream`` suffix so that this run never shares a test database with ours.
    """
    ours = importlib.import_module("tests.settings")
    if Path(ours.__file__).resolve().parent != REPO_ROOT / "tests":
        raise IsolationError(f"expected our suite's settings in {REPO_ROOT / 'tests'}, got {ours.__file__}")
    database = dict(ours.DATABASES["default"])
    if not database["ENGINE"].endswith("sqlite3"):
        database["NAME"] = f"{database['NAME']}_upstream"
    return database


def _xfail_reason(deviation):
    if deviation.upstream_issue is None:
        return f"deliberate deviation (our fix, docs/security.rst): {deviation.reason}"
    return f"deliberate deviation (upstream issue #{deviation.upstream_issue}): {deviation.reason}"


def _selection(release):
    """The strict xfails and deselections of a run of ``release``'s tests (compat/deviations.py)."""
    baseline_deviations = deviations.DEVIATIONS if release == deviations.BASELINE_RELEASE else {}
    xfail = {nodeid: _xfail_reason(deviation) for nodeid, deviation in baseline_deviations.items()}
    deselect = {
        nodeid: f"needs the internet: {reason}" for nodeid, reason in deviations.NEEDS_INTERNET.items()
    }
    return {"xfail": xfail, "deselect": deselect}


def _environment(run_dir, report_path, release):
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED_ENV}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DOT_COMPAT_DATABASE=json.dumps(database_settings()),
        DOT_COMPAT_SELECTION=json.dumps(_selection(release)),
        DOT_COMPAT_REPORT=str(report_path),
    )
    return env


def _check_isolation(report, run_dir):
    tests_file = Path(report["tests_package_file"]).resolve()
    if tests_file.parent != (run_dir / "tests").resolve():
        raise IsolationError(f"the upstream run imported the tests package from {tests_file}")
    provider_dir = Path(report["oauth2_provider_file"]).resolve().parent
    if run_dir.resolve() in provider_dir.parents:
        raise IsolationError(f"oauth2_provider was imported from the run folder: {provider_dir}")
    on_path = {Path(entry or run_dir).resolve() for entry in report["sys_path"]}
    if REPO_ROOT in on_path:
        raise IsolationError(f"the repository root {REPO_ROOT} was on sys.path of the upstream run")


def run_pytest(run_dir, pytest_args, release):
    """Run ``release``'s tests in ``run_dir`` (its cwd and rootdir) against our installed oauth2_provider."""
    report_path = run_dir / "compat-report.json"
    command = [sys.executable, "-m", "pytest", *DEFAULT_PYTEST_ARGS, *pytest_args]
    exit_code = subprocess.run(
        command, cwd=run_dir, env=_environment(run_dir, report_path, release)
    ).returncode
    if not report_path.exists():
        raise IsolationError(f"pytest exited with {exit_code} before the session finished (no report)")
    report = json.loads(report_path.read_text())
    _check_isolation(report, run_dir)
    return RunResult(
        exit_code=exit_code,
        collected=report["collected"],
        deselected=report["deselected"],
        outcomes=report["outcomes"],
        subtests=report["subtests"],
        unmatched_selection=report["unmatched_selection"],
        oauth2_provider_file=report["oauth2_provider_file"],
        oauth2_provider_version=report["oauth2_provider_version"],
    )
