"""pytest plugin for the upstream run; the harness copies it into the run folder and loads it with ``-p``.

It applies compat/deviations.py (handed over as JSON in ``DOT_COMPAT_SELECTION``: strict xfails and
deselections) and writes every outcome (each subtest's too, under its test's node id and its description),
the counts and the import paths actually used to the JSON file named by ``DOT_COMPAT_REPORT``. It cannot
import the compat package: the repository is deliberately not on sys.path.
"""

import json
import os
import sys
from pathlib import Path

import pytest


class OutcomeRecorder:
    def __init__(self, selection):
        self.xfail = selection["xfail"]
        self.deselect = selection["deselect"]
        self.matched = set()
        self.collected = 0
        self.deselected = 0
        self.outcomes = {}
        self.subtests = set()

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, config, items):
        # tryfirst: count before -k / -m / --deselect drop anything, as pytest's own "collected N" does.
        self.collected = len(items)
        kept, dropped = [], []
        for item in items:
            if item.nodeid in self.xfail:
                self.matched.add(item.nodeid)
                item.add_marker(pytest.mark.xfail(strict=True, reason=self.xfail[item.nodeid]))
            if item.nodeid in self.deselect:
                self.matched.add(item.nodeid)
                dropped.append(item)
            else:
                kept.append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept

    def pytest_deselected(self, items):
        self.deselected += len(items)

    def pytest_collectreport(self, report):
        if report.failed:
            # A module that cannot be imported: its node id is the file path.
            self.outcomes[report.nodeid] = "error"

    def pytest_runtest_logreport(self, report):
        outcome = _outcome_of(report)
        if outcome is None:
            return
        context = getattr(report, "context", None)
        if context is None:
            self.outcomes[report.nodeid] = outcome
            return
        # A subtest (unittest's subTest, pytest's subtests fixture) reports on its own, before its test's
        # own report: each is an outcome of its own, or a test whose subtests fail would count as passed.
        nodeid = f"{report.nodeid} {_subtest_description(context)}"
        self.subtests.add(nodeid)
        # One subtest context can report several times (in a loop): any failure sticks.
        if self.outcomes.get(nodeid) not in FAILING:
            self.outcomes[nodeid] = outcome

    def pytest_sessionfinish(self, session):
        import oauth2_provider
        import tests

        report = {
            "collected": self.collected,
            "deselected": self.deselected,
            "outcomes": self.outcomes,
            "subtests": len(self.subtests),
            "unmatched_selection": sorted((set(self.xfail) | set(self.deselect)) - self.matched),
            "oauth2_provider_file": oauth2_provider.__file__,
            "oauth2_provider_version": oauth2_provider.__version__,
            "tests_package_file": tests.__file__,
            "sys_path": sys.path,
        }
        Path(os.environ["DOT_COMPAT_REPORT"]).write_text(json.dumps(report, indent=1))


FAILING = frozenset({"failed", "error"})


def _subtest_description(context):
    """``[msg] (k=v, ...)``: what tells a subtest apart from the others of its test."""
    parts = []
    if context.msg is not None:
        parts.append(f"[{context.msg}]")
    if context.kwargs:
        parts.append("(" + ", ".join(f"{key}={value}" for key, value in context.kwargs.items()) + ")")
    return " ".join(parts) or "(subtest)"


def _outcome_of(report):
    """The outcome a phase report decides, or None when the phase leaves the test's outcome as it is."""
    xfail = hasattr(report, "wasxfail")
    if report.when == "call":
        if report.skipped:
            return "xfailed" if xfail else "skipped"
        if report.passed:
            return "xpassed" if xfail else "passed"
        return "failed"
    if report.failed:
        # A fixture or teardown that breaks is an error, even after a passing call.
        return "error"
    if report.when == "setup" and report.skipped:
        return "xfailed" if xfail else "skipped"
    return None


def pytest_configure(config):
    selection = json.loads(os.environ["DOT_COMPAT_SELECTION"])
    config.pluginmanager.register(OutcomeRecorder(selection), "compat-outcome-recorder")
