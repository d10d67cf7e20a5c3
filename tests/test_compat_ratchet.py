"""The upstream harness's classification ratchet and report plugin: CI is green only when it earned it."""

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from compat import ratchet
from compat.run import COMPAT_DIR, PLUGIN_MODULE, REPO_ROOT


KNOWN = {
    "tests/test_views.py::test_authorize": "FEATURE: device grant (3.2.0)",
    "tests/test_views.py::test_token": "FEATURE: device grant (3.2.0)",
    "tests/test_oidc.py::test_userinfo": "HARNESS: needs upstream's private keys",
}


def test_listed_failures_are_accepted_and_counted_by_class():
    outcomes = {
        "tests/test_views.py::test_authorize": "failed",
        "tests/test_views.py::test_token": "error",
        "tests/test_oidc.py::test_userinfo": "failed",
        "tests/test_models.py::test_ok": "passed",
    }

    verdict = ratchet.evaluate(KNOWN, outcomes, full_run=True)

    assert verdict.accepted
    assert verdict.still_failing == {"FEATURE": 2, "HARNESS": 1}


def test_a_failure_that_is_not_listed_is_refused():
    outcomes = {**dict.fromkeys(KNOWN, "failed"), "tests/test_models.py::test_regressed": "failed"}

    verdict = ratchet.evaluate(KNOWN, outcomes, full_run=True)

    assert not verdict.accepted
    assert verdict.new_failures == ["tests/test_models.py::test_regressed"]


def test_a_listed_test_that_passes_now_is_refused_until_removed():
    outcomes = {**dict.fromkeys(KNOWN, "failed"), "tests/test_views.py::test_token": "passed"}

    verdict = ratchet.evaluate(KNOWN, outcomes, full_run=True)

    assert not verdict.accepted
    assert verdict.now_passing == ["tests/test_views.py::test_token"]
    assert "tests/test_views.py::test_token" not in ratchet.pruned(KNOWN, verdict)


def test_an_unimportable_module_counts_as_its_listed_tests_still_failing():
    outcomes = {"tests/test_views.py": "error", "tests/test_oidc.py::test_userinfo": "failed"}

    verdict = ratchet.evaluate(KNOWN, outcomes, full_run=True)

    assert verdict.accepted
    assert verdict.still_failing == {"FEATURE": 2, "HARNESS": 1}


def test_an_unimportable_module_without_listed_tests_is_refused():
    outcomes = {**dict.fromkeys(KNOWN, "failed"), "tests/test_models.py": "error"}

    assert ratchet.evaluate(KNOWN, outcomes, full_run=True).new_failures == ["tests/test_models.py"]


def test_entries_for_tests_that_do_not_exist_fail_a_full_run_only():
    outcomes = dict.fromkeys(list(KNOWN)[:2], "failed")

    assert ratchet.evaluate(KNOWN, outcomes, full_run=True).unknown == ["tests/test_oidc.py::test_userinfo"]
    assert ratchet.evaluate(KNOWN, outcomes, full_run=False).accepted


def test_file_round_trip_keeps_the_header(tmp_path):
    path = tmp_path / "classification.txt"
    path.write_text("# header line\n\nb::t  # HARNESS: why\na::t  # FIX: the fix we lack\n")

    entries = ratchet.load(path)
    ratchet.write(path, entries)

    assert entries == {"a::t": "FIX: the fix we lack", "b::t": "HARNESS: why"}
    assert path.read_text() == "# header line\n\na::t  # FIX: the fix we lack\nb::t  # HARNESS: why\n"


def test_an_entry_without_its_class_is_a_clear_error(tmp_path):
    path = tmp_path / "classification.txt"
    path.write_text("tests/test_views.py::test_authorize\n")

    with pytest.raises(ValueError, match=r"classification.txt:1: expected '<node id>  # <CLASS>: <detail>'"):
        ratchet.load(path)


@pytest.mark.parametrize(
    ("tag", "problem"),
    [
        ("issue 4", "expected one of FEATURE, DEVIATION, HARNESS, FIX"),
        ("FEATURE: device grant", "FEATURE needs 'FEATURE: <feature> (<release it came in>)'"),
        ("DEVIATION: see the changelog", "DEVIATION needs 'DEVIATION: docs/<page>.rst <section>'"),
        (
            "DEVIATION: docs/no-such-page.rst Deviations",
            "the deviation's page docs/no-such-page.rst does not exist",
        ),
        ("HARNESS:", "expected one of FEATURE, DEVIATION, HARNESS, FIX"),
    ],
)
def test_each_class_must_say_what_it_needs(tmp_path, tag, problem):
    path = tmp_path / "classification.txt"
    path.write_text(f"a::t  # {tag}\n")

    with pytest.raises(ValueError, match=re.escape(f"classification.txt:1: {problem}")):
        ratchet.load(path, repo_root=REPO_ROOT)


@pytest.mark.parametrize("release", ["3.0.1", "3.4.1"])
def test_the_committed_classification_files_are_well_formed(release):
    """Every entry has a class with its details, and every DEVIATION names a page of our docs."""
    entries = ratchet.load(COMPAT_DIR / f"classification_{release}.txt", repo_root=REPO_ROOT)
    assert entries
    assert {ratchet.class_of(tag) for tag in entries.values()} <= set(ratchet.CLASSES)


# The report plugin: every subtest is an outcome of its own.

SUBTESTS_MODULE = """
    import unittest


    class T(unittest.TestCase):
        def test_with_subtests(self):
            for header in ("ok", "broken", "also ok"):
                with self.subTest(header=header):
                    self.assertNotEqual(header, "broken")

        def test_plain(self):
            pass
"""


def test_a_failing_subtest_is_a_failure_of_its_own(tmp_path):
    (tmp_path / "test_sub.py").write_text(textwrap.dedent(SUBTESTS_MODULE))
    (tmp_path / f"{PLUGIN_MODULE}.py").write_bytes((COMPAT_DIR / "report_plugin.py").read_bytes())
    (tmp_path / "tests.py").write_text("")  # the plugin reports where a "tests" package came from
    (tmp_path / "oauth2_provider.py").write_text("__version__ = 'x'\n")
    report_path = tmp_path / "report.json"
    env = {
        **os.environ,
        "DOT_COMPAT_SELECTION": json.dumps({"xfail": {}, "deselect": {}}),
        "DOT_COMPAT_REPORT": str(report_path),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        PLUGIN_MODULE,
        "-p",
        "no:django",
        "-p",
        "no:cacheprovider",
    ]
    subprocess.run([*command, "-q", "test_sub.py"], cwd=tmp_path, env=env, capture_output=True, check=False)

    report = json.loads(report_path.read_text())
    subtest_outcomes = {
        nodeid: outcome for nodeid, outcome in report["outcomes"].items() if nodeid.endswith(")")
    }
    assert subtest_outcomes["test_sub.py::T::test_with_subtests (header='broken')"] == "failed"
    assert "failed" in report["outcomes"].values()
    assert report["outcomes"]["test_sub.py::T::test_plain"] == "passed"
    assert report["subtests"] == len(subtest_outcomes) >= 1
