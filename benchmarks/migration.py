"""``python -m benchmarks [migration]``: time and peak memory of migration 0012 on a table of N tokens.

Steps: build a database at migration 0011 and fill it with N tokens (the snapshot); then, for every
contender and repetition, copy the snapshot, run ``migrate oauth2_provider 0012`` in a child process,
measure that child alone and check every checksum; print a table. See README.md.
"""

import argparse
import sys
from dataclasses import dataclass

from . import contenders as contender_types
from .children import migrate
from .common import (
    exit_status,
    parse_scenario_args,
    run_directory,
    say,
    scratch_database,
    with_upstream,
)
from .report import Run, measured_results, print_results, save_results
from .snapshots import tokens_before_0012


DATABASE_NAME = "dot_bench"
COLUMNS = ("contender", "wall s", "peak RSS MiB", "rows/s", "time x ours", "RSS x ours", "checksums")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, required=True, help="access tokens in the table")
    parser.add_argument("--batch-size", type=int, help="TOKEN_CHECKSUM_BATCH_SIZE for ours (default: ours)")
    parser.add_argument(
        "--base-from",
        metavar="VERSION",
        help="build the 0011 snapshot with this upstream release instead of our package",
    )
    return parse_scenario_args(parser, argv, DATABASE_NAME)


@dataclass
class MigrationRun(Run):
    """A ``migrate oauth2_provider 0012`` run: the rows with a wrong checksum, whether 0012 is recorded."""

    mismatched: int
    applied: bool

    def problem(self):
        if not self.applied:
            return "0012 is not recorded in django_migrations"
        if self.rows != self.expected_rows:
            return f"{self.rows} rows found, {self.expected_rows} expected"
        if self.mismatched:
            return f"{self.mismatched} of {self.rows} rows have a wrong token_checksum"
        return None


def measure(database, contender, rows, log_path):
    """Copy the snapshot, migrate the copy to 0012 with ``contender``, check it; return the run."""
    database.copy_base()
    child_vars = {**database.child_vars(database.work_name), **contender.settings}
    child = migrate(contender.python, ["oauth2_provider", "0012"], child_vars, log_path)
    rows_found, mismatched, applied = database.verify() if child.returncode == 0 else (0, 0, False)
    return MigrationRun.of(child, rows, rows_found, mismatched=mismatched, applied=applied)


def main(argv):
    args = parse_args(argv)
    run_dir = run_directory("migration", args)
    ours = [contender_types.ours(args.batch_size), contender_types.one_update(args.tokens)]
    contenders = with_upstream(ours, args.against)
    base_python = sys.executable
    if args.base_from:
        base_python = with_upstream([], [args.base_from])[0].python

    with scratch_database(args) as database:
        server = database.server_version()
        say(f"building the 0011 snapshot with {args.tokens:,} tokens on {args.db} (logs: {run_dir})")
        fill_s = tokens_before_0012(database, base_python, args.tokens, run_dir)
        say(f"inserted {args.tokens:,} tokens in {fill_s:.1f} s")

        def measure_one(contender, log_path):
            return measure(database, contender, args.tokens, log_path)

        results = measured_results(args, contenders, run_dir, measure_one)

    header = {
        "db": args.db,
        "server": server,
        "tokens": args.tokens,
        "repeat": args.repeat,
        "snapshot_built_with": args.base_from or "ours",
        "fill_s": round(fill_s, 2),
    }
    title = (
        f"migration 0012 on {args.db} ({server}), {args.tokens:,} access tokens, median of"
        f" {args.repeat} run(s); snapshot migrated by {header['snapshot_built_with']}"
    )
    print_results(title, results, args.tokens, COLUMNS, "rows", "every checksum verified")
    if args.json:
        save_results(args.json, header, results, args.tokens)
    return exit_status([result.label for result in results if not result.ok])
