"""The classification ratchet: every upstream test that fails against our package, and why.

One file per upstream release, ``classification_<release>.txt``, one entry a line:
``<node id>  # <CLASS>: <detail>``. Lines starting with ``#`` are comments. The classes:

- ``FEATURE: <name> (<release>)``: the test needs a feature upstream added after 3.0.1, which this line
  does not carry (it keeps the 3.0.1 API);
- ``DEVIATION: <docs/....rst section>``: the test contradicts a documented deliberate difference;
- ``HARNESS: <why>``: the test cannot pass under the harness (our fixtures, upstream's private test keys);
- ``FIX: <what>``: a fix inside the 3.0.1 API that we do not have yet. Allowed, so that a missing fix stays
  visible instead of being filed under another class, and reported on every run.

A node id may also name a test module that cannot be imported, or a subtest (``<test> [msg] (k=v)``).
A run is accepted when every failure or error is covered by an entry and every entry evaluated in the run
still fails. So the file can only shrink: a test that starts passing must leave it. While a module cannot
be imported its tests have no outcome of their own: the import error is covered by the module's entries,
and each of them counts as still failing.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


FAILING = frozenset({"failed", "error"})
SEPARATOR = "  # "
CLASSES = ("FEATURE", "DEVIATION", "HARNESS", "FIX")
# What each class must say after its name.
_DETAIL_FORMS = {
    "FEATURE": (re.compile(r".+ \(\d+(\.\d+)+\)"), "<feature> (<release it came in>)"),
    "DEVIATION": (re.compile(r"(?P<page>docs/[\w./-]+\.rst)( .+)?"), "docs/<page>.rst <section>"),
    "HARNESS": (re.compile(r".+"), "<why the harness cannot run it>"),
    "FIX": (re.compile(r".+"), "<the fix we lack>"),
}


@dataclass
class Verdict:
    new_failures: list = field(default_factory=list)  # failing, not covered by any entry
    now_passing: list = field(default_factory=list)  # entries whose test did not fail
    unknown: list = field(default_factory=list)  # entries matching no test of a full run
    still_failing: Counter = field(default_factory=Counter)  # class -> entries still failing

    @property
    def accepted(self):
        return not (self.new_failures or self.now_passing or self.unknown)


def class_of(tag):
    return tag.split(":", 1)[0]


def _check_tag(tag, repo_root):
    """The problem with ``tag`` (``CLASS: detail``), or None when it is well formed."""
    kind, colon, detail = tag.partition(": ")
    if kind not in CLASSES or not colon:
        return f"expected one of {', '.join(CLASSES)} followed by ': '"
    pattern, form = _DETAIL_FORMS[kind]
    match = pattern.fullmatch(detail.strip())
    if match is None:
        return f"{kind} needs '{kind}: {form}'"
    if kind == "DEVIATION" and repo_root is not None and not (repo_root / match["page"]).is_file():
        return f"the deviation's page {match['page']} does not exist"
    return None


def load(path, repo_root=None):
    """``{node id: tag}`` from a classification file; an absent file means nothing may fail.

    ``repo_root``: where the ``docs/`` pages that DEVIATION entries name must exist.
    """
    if not path.exists():
        return {}
    entries = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        nodeid, separator, tag = line.partition(SEPARATOR)
        tag = tag.strip()
        if not separator or not tag:
            raise ValueError(
                f"{path}:{number}: expected '<node id>{SEPARATOR}<CLASS>: <detail>', got {raw!r}"
            )
        problem = _check_tag(tag, Path(repo_root) if repo_root is not None else None)
        if problem:
            raise ValueError(f"{path}:{number}: {problem}, got {tag!r}")
        entries[nodeid.strip()] = tag
    return entries


def module_of(nodeid):
    return nodeid.split("::", 1)[0]


def is_covered(nodeid, known):
    """Whether ``nodeid`` may fail: it is listed, or it is a module whose listed tests cannot be imported."""
    if nodeid in known:
        return True
    return "::" not in nodeid and any(module_of(entry) == nodeid for entry in known)


def _judge_entry(entry, outcomes, full_run):
    """'failing', 'passing', 'unknown', or None when this run says nothing about ``entry``."""
    outcome = outcomes.get(entry)
    if outcome in FAILING or (outcome is None and outcomes.get(module_of(entry)) == "error"):
        return "failing"
    if outcome is not None:
        return "passing"
    return "unknown" if full_run else None


def evaluate(known, outcomes, full_run):
    """Compare one run's outcomes with the classification. ``full_run``: no test selection was given."""
    verdict = Verdict()
    verdict.new_failures = sorted(
        nodeid for nodeid, outcome in outcomes.items() if outcome in FAILING and not is_covered(nodeid, known)
    )
    buckets = {"passing": verdict.now_passing, "unknown": verdict.unknown}
    for entry, tag in sorted(known.items()):
        judgement = _judge_entry(entry, outcomes, full_run)
        if judgement == "failing":
            verdict.still_failing[class_of(tag)] += 1
        elif judgement is not None:
            buckets[judgement].append(entry)
    return verdict


def pruned(known, verdict):
    """The entries left once those that pass now, or match no test, are dropped."""
    gone = set(verdict.now_passing) | set(verdict.unknown)
    return {entry: tag for entry, tag in known.items() if entry not in gone}


def write(path, entries):
    """Rewrite ``path`` with ``entries`` sorted, keeping its leading comment block."""
    header = []
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                break
            header.append(line)
    body = [f"{nodeid}{SEPARATOR}{tag}" for nodeid, tag in sorted(entries.items())]
    path.write_text("\n".join([*header, *body]) + "\n")
