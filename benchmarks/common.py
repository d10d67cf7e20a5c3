"""What every scenario shares: the options, messages, the scratch database, the contenders, the output."""

import contextlib
import json
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import contenders as contender_types
from .children import log_tail
from .databases import open_database


WORK_DIR = Path(__file__).resolve().parent / "_work"


def add_common_options(parser, default_name):
    """The options every scenario has: database, contenders, repetitions, server connection."""
    parser.add_argument("--db", choices=("sqlite", "postgres", "mysql"), required=True)
    parser.add_argument(
        "--against",
        type=lambda value: [version.strip() for version in value.split(",") if version.strip()],
        default=[],
        help="comma-separated upstream django-oauth-toolkit releases to run too, e.g. 3.0.1,3.4.1",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per contender; the table shows medians")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--db-name", default=default_name, help="snapshot database; the copy adds _work")
    parser.add_argument("--host", help="server host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="server port (default 5432 / 3306)")
    parser.add_argument("--user", help="server user (default postgres / root)")
    parser.add_argument("--password", default="", help="server password (default empty)")


def parse_scenario_args(parser, argv, default_name, fewest_tokens=1):
    """``parser``'s arguments (it has the scenario's own, ``--tokens`` included) plus the common ones."""
    add_common_options(parser, default_name)
    args = parser.parse_args(argv)
    if args.tokens < fewest_tokens or args.repeat < 1:
        parser.error(f"--tokens must be at least {fewest_tokens} and --repeat at least 1")
    return args


def say(message):
    """Progress on stderr, so that stdout carries only the results."""
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def abort(message, log_path=None):
    print(f"\nBENCHMARK FAILED: {message}", file=sys.stderr)
    if log_path:
        print(log_tail(log_path), file=sys.stderr)
    sys.exit(2)


def slug(label):
    return re.sub(r"[^A-Za-z0-9.]+", "-", label).strip("-")


def child_files(stem):
    """The log and the result file of one child run, ``<stem>.log`` and ``<stem>.json``.

    Appended, not ``Path.with_suffix``: a stem holding a release such as ``3.0.1`` has dots, and
    with_suffix replaced its last part, so that the repetitions of one contender overwrote each other.
    """
    return stem.parent / f"{stem.name}.log", stem.parent / f"{stem.name}.json"


def run_directory(scenario, args):
    """Where this run's child logs go: ``_work/<scenario>-<db>-<tokens>-<time>``."""
    return WORK_DIR / f"{scenario}-{args.db}-{args.tokens}-{datetime.now():%Y%m%d-%H%M%S}"


@contextlib.contextmanager
def scratch_database(args):
    """The scenario's database (``--db``, ``--db-name``, connection options), dropped on the way out."""
    with tempfile.TemporaryDirectory(prefix=f"{args.db_name}_") as sqlite_dir:
        database = open_database(
            args.db, args.db_name, sqlite_dir, args.host, args.port, args.user, args.password
        )
        try:
            yield database
        finally:
            database.drop_all()


def with_upstream(contenders, versions):
    """``contenders`` followed by each upstream release of ``versions`` in its venv (built if missing)."""
    try:
        return [*contenders, *(contender_types.upstream(version, say) for version in versions)]
    except subprocess.CalledProcessError as error:
        abort(f"could not build an upstream venv: {' '.join(map(str, error.cmd))}")


def repetitions(args, contenders):
    """``(repetition, contender)`` for every run, each announced on stderr."""
    for repetition in range(1, args.repeat + 1):
        for contender in contenders:
            say(f"run {repetition}/{args.repeat}: {contender.label}")
            yield repetition, contender


def format_table(lines, text_columns=1):
    """``lines`` (the header first) as aligned text: the first ``text_columns`` left, numbers right."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]

    def aligned(line):
        return "  ".join(
            cell.ljust(width) if column < text_columns else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(line, widths, strict=True))
        )

    text = [aligned(line) for line in lines]
    text.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(text)


@dataclass(kw_only=True)
class RequestCell:
    """Every run of one contender on one kind of request, as the children report them; the tables show
    medians over the runs. A subclass names the kind of request and says its ``expected`` status."""

    contender: str
    requests: int
    seconds: list = field(default_factory=list)
    cpu_seconds: list = field(default_factory=list)
    queries: list = field(default_factory=list)
    statuses: set = field(default_factory=set)

    def add_run(self, run):
        self.seconds.append(run["seconds"])
        self.cpu_seconds.append(run["cpu_seconds"])
        self.queries.append(run["queries"])
        self.statuses.update(run["statuses"])

    @property
    def ok(self):
        return self.statuses == {self.expected}

    @property
    def status(self):
        if self.ok:
            return str(self.expected)
        return f"{','.join(map(str, sorted(self.statuses)))} FAILED (expected {self.expected})"

    @property
    def requests_per_s(self):
        return self.requests / statistics.median(self.seconds)

    @property
    def cpu_ms_per_request(self):
        """The child's own CPU time per request: what other processes on a busy machine disturb least."""
        return 1000 * statistics.median(self.cpu_seconds) / self.requests

    @property
    def statements_per_request(self):
        return statistics.median(self.queries) / self.requests


def write_json(path, document):
    with open(path, "w") as file:
        json.dump(document, file, indent=2)
        file.write("\n")


def save_cells(args, scenario, server, packages, cells, options, cell_fields):
    """Write ``--json``: the run's facts, the ``options`` it ran with, each contender's package, and per
    cell its ``cell_fields`` (medians and the runs behind them)."""

    def value(cell, name):
        found = getattr(cell, name)
        return sorted(found) if isinstance(found, set) else found

    document = {
        "scenario": scenario,
        "db": args.db,
        "server": server,
        **{option: getattr(args, option) for option in options},
        "contenders": packages,
        "cells": [{name: value(cell, name) for name in cell_fields} for cell in cells],
    }
    write_json(args.json, document)


def exit_status(failed):
    """1 (and a line on stderr naming them) when some contender in ``failed`` failed, else 0."""
    if failed:
        print(f"\nFAILED: {', '.join(failed)}: see the lines above.", file=sys.stderr)
        return 1
    return 0
