"""``python -m compat``: run an upstream release's test files against our package and judge the result."""

import argparse
import importlib.util
import re
from collections import Counter
from importlib import metadata

from compat import ratchet, sdist
from compat.deviations import BASELINE_RELEASE
from compat.run import COMPAT_DIR, REPO_ROOT, IsolationError, prepare, run_pytest


UPSTREAM_DIR = COMPAT_DIR / "_upstream"
# Modules upstream's test files import beyond Django and pytest (all in our `test` extra).
REQUIRED_MODULES = ("pytest_django", "pytest_mock", "rest_framework")
# pytest exit codes that mean the run itself broke: interrupted, internal error, usage error, no tests.
BROKEN_RUN_CODES = {2, 3, 4, 5}


def _release(value):
    # The release names a folder that is deleted and rebuilt, so nothing but a plain version is accepted.
    if not re.fullmatch(r"\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?", value):
        raise argparse.ArgumentTypeError(f"not a release version: {value!r}")
    return value


def _arguments(argv):
    parser = argparse.ArgumentParser(
        prog="python -m compat",
        description="Run upstream django-oauth-toolkit's test files against our oauth2_provider. "
        "Arguments not listed here go to pytest (e.g. -k EXPR, --tb=short).",
        allow_abbrev=False,
    )
    parser.add_argument(
        "--release", default=BASELINE_RELEASE, type=_release, help="upstream release whose tests to run"
    )
    parser.add_argument(
        "--prune-classification",
        action="store_true",
        help="rewrite classification_<release>.txt without the entries that pass now or match no test",
    )
    return parser.parse_known_args(argv)


def _environment_problems():
    """Reasons the run would measure the environment instead of our package; empty when all is well."""
    problems = [
        f"{name} is not installed: pip install -e .[test]"
        for name in REQUIRED_MODULES
        if importlib.util.find_spec(name) is None
    ]
    try:
        upstream = metadata.version(sdist.DISTRIBUTION)
    except metadata.PackageNotFoundError:
        upstream = None
    if upstream is not None:
        problems.append(
            f"{sdist.DISTRIBUTION} {upstream} is installed: its oauth2_provider files may shadow ours; "
            f"pip uninstall {sdist.DISTRIBUTION}"
        )
    return problems


def _counts(outcomes):
    return Counter(outcomes.values())


def summary_line(release, result):
    counts = _counts(result.outcomes)
    line = (
        f"upstream {release}: collected {result.collected}, passed {counts['passed']}, "
        f"failed {counts['failed']}, xfailed {counts['xfailed']}, errors {counts['error']}, "
        f"deselected {result.deselected}"
    )
    # Shown only when present: the baseline has none of these (its xfails are strict, nothing is skipped,
    # and its tests use no subtests).
    for outcome in ("skipped", "xpassed"):
        if counts[outcome]:
            line += f", {outcome} {counts[outcome]}"
    if result.subtests:
        line += f"; of these, {result.subtests} subtests counted one by one"
    return line


def _stale_selection(result):
    """Deviation entries that matched no test although their module imported (so the test is gone)."""
    return [
        nodeid
        for nodeid in result.unmatched_selection
        if result.outcomes.get(ratchet.module_of(nodeid)) != "error"
    ]


def _report_unimportable_modules(outcomes, known):
    modules = sorted(
        nodeid for nodeid, outcome in outcomes.items() if outcome == "error" and "::" not in nodeid
    )
    if not modules:
        return
    listed = Counter(ratchet.module_of(entry) for entry in known)
    hidden = sum(listed[module] for module in modules)
    print(f"{len(modules)} upstream test modules do not import yet, holding {hidden} listed known failures:")
    for module in modules:
        print(f"  {module} ({listed[module]})")


def _report_verdict(verdict, known, known_path):
    if verdict.still_failing:
        print(
            "classified failures still failing: "
            + ", ".join(f"{kind}: {n}" for kind, n in sorted(verdict.still_failing.items()))
        )
    missing_fixes = sorted(entry for entry, tag in known.items() if ratchet.class_of(tag) == "FIX")
    if missing_fixes:
        print(f"FIXES WE STILL LACK ({len(missing_fixes)} FIX entries of {known_path.name}):")
        for nodeid in missing_fixes:
            print(f"  {nodeid}  # {known[nodeid]}")
    sections = (
        (verdict.new_failures, f"NEW failures or errors, not in {known_path.name}"),
        (verdict.now_passing, f"PASSING NOW, remove from {known_path.name} (--prune-classification)"),
        (verdict.unknown, f"entries of {known_path.name} that match no upstream test"),
    )
    for nodeids, title in sections:
        if nodeids:
            print(f"{title}:")
            for nodeid in nodeids:
                print(f"  {nodeid}")


def _judge(options, pytest_args, result):
    """Report on the run, apply the ratchet (pruning first if asked) and return the exit code."""
    baseline = options.release == BASELINE_RELEASE
    known_path = COMPAT_DIR / f"classification_{options.release}.txt"
    known = ratchet.load(known_path, repo_root=REPO_ROOT)
    verdict = ratchet.evaluate(known, result.outcomes, full_run=not pytest_args)
    if options.prune_classification and (verdict.now_passing or verdict.unknown):
        known = ratchet.pruned(known, verdict)
        ratchet.write(known_path, known)
        print(f"removed {len(verdict.now_passing) + len(verdict.unknown)} entries from {known_path}")
        verdict = ratchet.evaluate(known, result.outcomes, full_run=not pytest_args)
    _report_unimportable_modules(result.outcomes, known)
    _report_verdict(verdict, known, known_path)
    # Only a full run of the baseline release can tell that a deviation entry names no test.
    stale_selection = _stale_selection(result) if baseline and not pytest_args else []
    for nodeid in stale_selection:
        print(f"compat/deviations.py names a test that does not exist: {nodeid}")
    print(summary_line(options.release, result))

    counts = _counts(result.outcomes)
    # 3.0.1 skips nothing, so a skip there hides a result; later releases skip backend-specific tests.
    hidden = counts["xpassed"] or (baseline and counts["skipped"])
    broken = result.exit_code in BROKEN_RUN_CODES or hidden
    return 1 if broken or stale_selection or not verdict.accepted else 0


def main(argv=None):
    options, pytest_args = _arguments(argv)
    problems = _environment_problems()
    if problems:
        print("cannot run the upstream suite:\n  " + "\n  ".join(problems))
        return 2

    sdist_path = sdist.fetch(options.release, UPSTREAM_DIR)
    run_dir = prepare(sdist_path, options.release, UPSTREAM_DIR)
    try:
        result = run_pytest(run_dir, pytest_args, options.release)
    except IsolationError as exc:
        print(f"upstream run rejected: {exc}")
        return 2
    print(f"oauth2_provider {result.oauth2_provider_version} imported from {result.oauth2_provider_file}")

    return _judge(options, pytest_args, result)
