"""The known-failures ratchet: upstream tests allowed to fail for now, each with the issue that fixes it.

File format, one entry a line: ``<node id>  # issue N`` (or ``# fixture: why`` for a test our fixtures can
never satisfy). Lines starting with ``#`` are comments.

A run is accepted when every failure or error is covered by an entry and every entry evaluated in the run
still fails. So the list can only shrink: a test that starts passing must leave it. While a module cannot be
imported its tests have no outcome of their own: the import error is covered by the module's entries, and
each of them counts as still failing.
"""

from collections import Counter
from dataclasses import dataclass, field


FAILING = frozenset({"failed", "error"})
SEPARATOR = "  # "


@dataclass
class Verdict:
    new_failures: list = field(default_factory=list)  # failing, not covered by any entry
    now_passing: list = field(default_factory=list)  # entries whose test did not fail
    unknown: list = field(default_factory=list)  # entries matching no test of a full run
    still_failing: Counter = field(default_factory=Counter)  # tag -> entries still failing

    @property
    def accepted(self):
        return not (self.new_failures or self.now_passing or self.unknown)


def load(path):
    """``{node id: tag}`` from a known-failures file; an absent file means no known failures."""
    if not path.exists():
        return {}
    entries = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        nodeid, separator, tag = line.partition(SEPARATOR)
        if not separator or not tag.strip():
            raise ValueError(f"{path}:{number}: expected '<node id>{SEPARATOR}issue N', got {raw!r}")
        entries[nodeid.strip()] = tag.strip()
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
    """Compare one run's outcomes with the known failures. ``full_run``: no test selection was given."""
    verdict = Verdict()
    verdict.new_failures = sorted(
        nodeid for nodeid, outcome in outcomes.items() if outcome in FAILING and not is_covered(nodeid, known)
    )
    buckets = {"passing": verdict.now_passing, "unknown": verdict.unknown}
    for entry, tag in sorted(known.items()):
        judgement = _judge_entry(entry, outcomes, full_run)
        if judgement == "failing":
            verdict.still_failing[tag] += 1
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
