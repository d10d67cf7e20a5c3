"""The runs and results of the scenarios that time one child per run, and their table and JSON file."""

import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import contenders as contender_types
from .children import log_tail
from .common import format_table, repetitions, say, slug, write_json


@dataclass
class Run:
    """One contender's child on a fresh copy of the snapshot, and the check of what it left.

    A scenario subclasses it with the fields of its check and says in :meth:`problem` what is wrong.
    """

    wall_s: float
    peak_rss_kib: int
    returncode: int
    expected_rows: int
    rows: int
    log: str

    @classmethod
    def of(cls, child, expected_rows, rows, **check):
        """The run of the measured ``child`` (a ``ChildRun``), with what the scenario's check found."""
        return cls(
            wall_s=child.wall_s,
            peak_rss_kib=child.peak_rss_kib,
            returncode=child.returncode,
            expected_rows=expected_rows,
            rows=rows,
            log=str(child.log_path),
            **check,
        )

    @property
    def ok(self):
        return self.failure() is None

    def failure(self):
        """Why this run failed, or None."""
        if self.returncode != 0:
            return f"the child exited with {self.returncode} (log: {self.log})"
        return self.problem()

    def problem(self):
        """What the check found wrong after a child that exited cleanly, or None."""
        raise NotImplementedError


@dataclass
class Result:
    """Every run of one contender; the table shows medians over them."""

    label: str
    package: str
    runs: list = field(default_factory=list)

    @property
    def ok(self):
        return all(run.ok for run in self.runs)

    @property
    def wall_s(self):
        return statistics.median(run.wall_s for run in self.runs)

    @property
    def peak_rss_mib(self):
        return statistics.median(run.peak_rss_kib for run in self.runs) / 1024

    def add(self, run):
        """Record ``run`` and say what it cost, or why it failed (with the log's tail if the child did)."""
        self.runs.append(run)
        say(f"  {run.wall_s:.2f} s, {run.peak_rss_kib / 1024:.1f} MiB")
        if not run.ok:
            tail = f"; log tail:\n{log_tail(Path(run.log))}" if run.returncode else ""
            say(f"!!! {self.label} FAILED: {run.failure()}{tail}")

    def rows_per_s(self, rows):
        return rows / self.wall_s

    def failures(self):
        """Why this contender failed, one reason per failed run (empty when every run passed)."""
        return [run.failure() for run in self.runs if not run.ok]


def measured_results(args, contenders, run_dir, measure):
    """A Result per contender with its ``--repeat`` runs, each ``measure(contender, log_path)``."""
    results = {
        contender.label: Result(contender.label, contender_types.describe(contender))
        for contender in contenders
    }
    for repetition, contender in repetitions(args, contenders):
        results[contender.label].add(
            measure(contender, run_dir / f"{slug(contender.label)}-{repetition}.log")
        )
    return list(results.values())


def table(results, rows, columns):
    """The results as an aligned text table, ``ours`` first and every ratio relative to it.

    ``columns`` names the columns; the last one is the correctness check of the scenario.
    """
    reference = results[0]
    lines = [columns]
    for result in results:
        lines.append(
            (
                result.label,
                f"{result.wall_s:.2f}",
                f"{result.peak_rss_mib:.1f}",
                f"{result.rows_per_s(rows):,.0f}",
                f"{result.wall_s / reference.wall_s:.2f}",
                f"{result.peak_rss_mib / reference.peak_rss_mib:.2f}",
                "OK" if result.ok else "FAILED",
            )
        )
    return format_table(lines)


def closing_line(result, reference, rows, unit, verdict):
    """One sentence per contender: its numbers, how it compares with ``ours``, ``verdict`` if it is right."""
    numbers = (
        f"{result.label}: {rows:,} {unit} in {result.wall_s:.2f} s ({result.rows_per_s(rows):,.0f} {unit}/s),"
        f" peak RSS {result.peak_rss_mib:.1f} MiB"
    )
    if result is not reference:
        numbers += (
            f", {result.wall_s / reference.wall_s:.2f}x the time and"
            f" {result.peak_rss_mib / reference.peak_rss_mib:.2f}x the memory of {reference.label}"
        )
    if result.ok:
        return f"{numbers}; {verdict}."
    return f"{numbers}; FAILED: {'; '.join(result.failures())}."


def print_results(title, results, rows, columns, unit, verdict):
    """Print the title, where each contender's package came from, the table and one sentence each."""
    print(title)
    for result in results:
        print(f"  {result.label}: {result.package}")
    print()
    print(table(results, rows, columns))
    print()
    for result in results:
        print(closing_line(result, results[0], rows, unit, verdict))


def save_results(path, header, results, rows):
    """Header facts plus every contender's medians and individual runs, for comparing runs later."""
    contenders = [
        {
            "label": result.label,
            "package": result.package,
            "ok": result.ok,
            "wall_s": result.wall_s,
            "peak_rss_mib": result.peak_rss_mib,
            "rows_per_s": result.rows_per_s(rows),
            "runs": [asdict(run) for run in result.runs],
        }
        for result in results
    ]
    write_json(path, {**header, "contenders": contenders})
