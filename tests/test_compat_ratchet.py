"""The known-failures ratchet of the upstream harness: CI is green only when it earned it."""

import pytest

from compat import ratchet


KNOWN = {
    "tests/test_views.py::test_authorize": "issue 4",
    "tests/test_views.py::test_token": "issue 4",
    "tests/test_oidc.py::test_userinfo": "issue 5",
}


def test_listed_failures_are_accepted_and_counted_by_issue():
    outcomes = {
        "tests/test_views.py::test_authorize": "failed",
        "tests/test_views.py::test_token": "error",
        "tests/test_oidc.py::test_userinfo": "failed",
        "tests/test_models.py::test_ok": "passed",
    }

    verdict = ratchet.evaluate(KNOWN, outcomes, full_run=True)

    assert verdict.accepted
    assert verdict.still_failing == {"issue 4": 2, "issue 5": 1}


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
    assert verdict.still_failing == {"issue 4": 2, "issue 5": 1}


def test_an_unimportable_module_without_listed_tests_is_refused():
    outcomes = {**dict.fromkeys(KNOWN, "failed"), "tests/test_models.py": "error"}

    assert ratchet.evaluate(KNOWN, outcomes, full_run=True).new_failures == ["tests/test_models.py"]


def test_entries_for_tests_that_do_not_exist_fail_a_full_run_only():
    outcomes = dict.fromkeys(list(KNOWN)[:2], "failed")

    assert ratchet.evaluate(KNOWN, outcomes, full_run=True).unknown == ["tests/test_oidc.py::test_userinfo"]
    assert ratchet.evaluate(KNOWN, outcomes, full_run=False).accepted


def test_file_round_trip_keeps_the_header(tmp_path):
    path = tmp_path / "known.txt"
    path.write_text("# header line\n\nb::t  # issue 5\na::t  # issue 4\n")

    entries = ratchet.load(path)
    ratchet.write(path, entries)

    assert entries == {"a::t": "issue 4", "b::t": "issue 5"}
    assert path.read_text() == "# header line\n\na::t  # issue 4\nb::t  # issue 5\n"


def test_an_entry_without_its_issue_is_a_clear_error(tmp_path):
    path = tmp_path / "known.txt"
    path.write_text("tests/test_views.py::test_authorize\n")

    with pytest.raises(ValueError, match=r"known.txt:1: expected '<node id>  # issue N'"):
        ratchet.load(path)
