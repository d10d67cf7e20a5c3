"""``python -m benchmarks cleartokens``: time and peak memory of ``manage.py cleartokens`` on N tokens.

Steps: migrate a fresh database to the latest migration with our package (upstream 3.0.1 has the same
schema) and fill it with N access tokens, 98 % of them expired long ago, every even id with a refresh
token (the snapshot); then, for every contender and repetition, copy the snapshot, run
``python -m django cleartokens`` in a child process with ``REFRESH_TOKEN_EXPIRE_SECONDS`` set (so the
refresh tokens of the expired access tokens are expired too), measure that child alone and check that
exactly the valid tokens and their refresh tokens remain. See README.md.
"""

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime

from . import contenders as contender_types
from .children import migrate, run_child
from .databases import cleartokens_survivors, open_database
from .migration import WORK_DIR, abort, add_common_options, say, slug
from .report import Result, exit_status, print_results, write_json


DATABASE_NAME = "dot_cleartokens_bench"
REFRESH_TOKEN_EXPIRE_SECONDS = 3600


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks cleartokens", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--tokens", type=int, required=True, help="access tokens in the table")
    parser.add_argument(
        "--batch-size", type=int, help="CLEAR_EXPIRED_TOKENS_BATCH_SIZE for every contender (default: theirs)"
    )
    add_common_options(parser, DATABASE_NAME)
    args = parser.parse_args(argv)
    if args.tokens < 1 or args.repeat < 1:
        parser.error("--tokens and --repeat must be at least 1")
    return args


@dataclass
class Run:
    """One contender's cleartokens run on a fresh copy of the snapshot, and what was left after it."""

    wall_s: float
    peak_rss_kib: int
    returncode: int
    expected_rows: int
    rows: int
    wrong_rows: int
    log: str

    @property
    def ok(self):
        return self.returncode == 0 and self.rows == self.expected_rows and not self.wrong_rows

    def failure(self):
        """Why this run failed, or None."""
        if self.returncode != 0:
            return f"cleartokens exited with {self.returncode} (log: {self.log})"
        if not self.ok:
            left = f"{self.rows} rows left, {self.expected_rows} expected"
            return f"{left}, {self.wrong_rows} differ from the expected ones"
        return None


def build_snapshot(database, rows, log_dir):
    """Migrate a fresh database to the latest migration in a child, then insert the scenario's rows."""
    database.recreate_base()
    child_vars = database.child_vars(database.base_name)
    for step, target in enumerate((["contenttypes"], ["auth"], ["oauth2_provider"])):
        run = migrate(sys.executable, target, child_vars, log_dir / f"snapshot-{step}-{target[0]}.log")
        if run.returncode != 0:
            abort(f"migrate {' '.join(target)} for the snapshot exited with {run.returncode}", run.log_path)
    database.fill_expired(rows)


def measure(database, contender, rows, bench_vars, log_path):
    """Copy the snapshot, run ``cleartokens`` on the copy with ``contender``, check what is left."""
    database.copy_base()
    child_vars = {**database.child_vars(database.work_name), **bench_vars}
    child = run_child(contender.python, ["-m", "django", "cleartokens"], child_vars, log_path)
    expected = cleartokens_survivors(rows)
    found = database.remaining_tokens() if child.returncode == 0 else ([], [])
    wrong = sum(len(set(want) ^ set(got)) for want, got in zip(expected, found, strict=True))
    run = Run(
        wall_s=child.wall_s,
        peak_rss_kib=child.peak_rss_kib,
        returncode=child.returncode,
        expected_rows=sum(map(len, expected)),
        rows=sum(map(len, found)),
        wrong_rows=wrong,
        log=str(log_path),
    )
    if not run.ok:
        say(f"!!! {contender.label} FAILED: {run.failure()}")
    return run


COLUMNS = ("contender", "wall s", "peak RSS MiB", "tokens/s", "time x ours", "RSS x ours", "rows left")


def closing_line(result, reference, rows):
    """One sentence per contender: its numbers, how it compares with ``ours``, whether it was right."""
    numbers = (
        f"{result.label}: {rows:,} tokens in {result.wall_s:.2f} s, peak RSS {result.peak_rss_mib:.1f} MiB"
    )
    if result is not reference:
        numbers += (
            f", {result.wall_s / reference.wall_s:.2f}x the time and"
            f" {result.peak_rss_mib / reference.peak_rss_mib:.2f}x the memory of {reference.label}"
        )
    if result.ok:
        return f"{numbers}; exactly the valid tokens remain."
    failures = "; ".join(run.failure() for run in result.runs if not run.ok)
    return f"{numbers}; FAILED: {failures}."


def main(argv):
    args = parse_args(argv)
    run_dir = WORK_DIR / f"cleartokens-{args.db}-{args.tokens}-{datetime.now():%Y%m%d-%H%M%S}"
    sqlite_dir = tempfile.TemporaryDirectory(prefix="dot_cleartokens_bench_")
    database = open_database(
        args.db, args.db_name, sqlite_dir.name, args.host, args.port, args.user, args.password
    )
    bench_vars = {"BENCH_REFRESH_TOKEN_EXPIRE_SECONDS": str(REFRESH_TOKEN_EXPIRE_SECONDS)}
    if args.batch_size:
        bench_vars["BENCH_CLEAR_BATCH_SIZE"] = str(args.batch_size)
    contenders = [contender_types.ours()]
    try:
        contenders += [contender_types.upstream(version, say) for version in args.against]
    except subprocess.CalledProcessError as error:
        abort(f"could not build an upstream venv: {' '.join(map(str, error.cmd))}")
    server = database.server_version()
    results = [Result(contender.label, contender_types.describe(contender)) for contender in contenders]

    try:
        say(f"building the snapshot with {args.tokens:,} tokens on {args.db} (logs: {run_dir})")
        build_snapshot(database, args.tokens, run_dir)
        for repetition in range(1, args.repeat + 1):
            for contender, result in zip(contenders, results, strict=True):
                say(f"run {repetition}/{args.repeat}: {contender.label}")
                log_path = run_dir / f"{slug(contender.label)}-{repetition}.log"
                result.runs.append(measure(database, contender, args.tokens, bench_vars, log_path))
                say(f"  {result.runs[-1].wall_s:.2f} s, {result.runs[-1].peak_rss_kib / 1024:.1f} MiB")
    finally:
        database.drop_all()
        sqlite_dir.cleanup()

    batch = args.batch_size or "default"
    title = (
        f"cleartokens on {args.db} ({server}), {args.tokens:,} access tokens (98 % expired, every other one"
        f" with a refresh token), batch size {batch}, median of {args.repeat} run(s)"
    )
    print_results(title, results, args.tokens, closing_line, COLUMNS)
    if args.json:
        header = {"scenario": "cleartokens", "db": args.db, "server": server, "tokens": args.tokens}
        write_json(
            args.json, {**header, "repeat": args.repeat, "batch_size": args.batch_size}, results, args.tokens
        )
    return exit_status(results)
