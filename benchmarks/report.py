"""Turning measured runs into the printed table, the closing lines and the optional JSON file."""

import json
import statistics
import sys
from dataclasses import asdict, dataclass, field


@dataclass
class Run:
    """One contender's migrate run on a fresh copy of the snapshot, and what the check found after it."""

    wall_s: float
    peak_rss_kib: int
    returncode: int
    expected_rows: int
    rows: int
    mismatched: int
    applied: bool
    log: str

    @property
    def ok(self):
        complete = self.applied and self.rows == self.expected_rows
        return self.returncode == 0 and complete and not self.mismatched


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

    def rows_per_s(self, rows):
        return rows / self.wall_s

    def failures(self):
        """Why this contender failed, one reason per failed run (empty when every run passed)."""
        reasons = []
        for run in self.runs:
            if run.returncode != 0:
                reasons.append(f"migrate exited with {run.returncode} (log: {run.log})")
            elif not run.applied:
                reasons.append("0012 is not recorded in django_migrations")
            elif run.rows != run.expected_rows:
                reasons.append(f"{run.rows} rows found, {run.expected_rows} expected")
            elif run.mismatched:
                reasons.append(f"{run.mismatched} of {run.rows} rows have a wrong token_checksum")
        return reasons


COLUMNS = ("contender", "wall s", "peak RSS MiB", "rows/s", "time x ours", "RSS x ours", "checksums")


def table(results, rows, columns=COLUMNS):
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
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    text = [_aligned(line, widths) for line in lines]
    text.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(text)


def _aligned(cells, widths):
    """One table line: the label left-aligned, the numbers right-aligned."""
    label = cells[0].ljust(widths[0])
    numbers = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
    return "  ".join([label, *numbers])


def closing_line(result, reference, rows):
    """One sentence per contender: its numbers, how it compares with ``ours`` and whether it is correct."""
    numbers = (
        f"{result.label}: {rows:,} rows in {result.wall_s:.2f} s ({result.rows_per_s(rows):,.0f} rows/s),"
        f" peak RSS {result.peak_rss_mib:.1f} MiB"
    )
    if result is not reference:
        numbers += (
            f", {result.wall_s / reference.wall_s:.2f}x the time and"
            f" {result.peak_rss_mib / reference.peak_rss_mib:.2f}x the memory of {reference.label}"
        )
    if result.ok:
        return f"{numbers}; every checksum verified."
    return f"{numbers}; FAILED: {'; '.join(result.failures())}."


def write_json(path, header, results, rows):
    """Header facts plus every contender's medians and individual runs, for comparing runs later."""
    document = {
        **header,
        "contenders": [
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
        ],
    }
    with open(path, "w") as file:
        json.dump(document, file, indent=2)
        file.write("\n")


def print_results(title, results, rows, closing_line, columns=COLUMNS):
    """Print the title, where each contender's package came from, the table and one sentence each."""
    print(title)
    for result in results:
        print(f"  {result.label}: {result.package}")
    print()
    print(table(results, rows, columns))
    print()
    for result in results:
        print(closing_line(result, results[0], rows))


def exit_status(results):
    """1 (and a line on stderr naming them) when a contender failed, else 0."""
    failed = [result.label for result in results if not result.ok]
    if failed:
        print(f"\nFAILED: {', '.join(failed)}: see the lines above.", file=sys.stderr)
        return 1
    return 0
