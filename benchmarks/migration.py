"""``python -m benchmarks``: time and peak memory of migration 0012 on a table of N access tokens.

``python -m benchmarks cleartokens ...`` and ``python -m benchmarks api ...`` run the other scenarios
instead: see ``cleartokens.py`` and ``api.py``.

Steps: build a database at migration 0011 and fill it with N tokens (the snapshot); then, for every
contender and repetition, copy the snapshot, run ``migrate oauth2_provider 0012`` in a child process,
measure that child alone and check every checksum; print a table. See README.md.
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from . import contenders as contender_types
from .children import log_tail, migrate
from .databases import open_database
from .report import Result, Run, closing_line, exit_status, print_results, write_json


WORK_DIR = Path(__file__).resolve().parent / "_work"
DATABASE_NAME = "dot_bench"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, required=True, help="access tokens in the table")
    parser.add_argument("--batch-size", type=int, help="TOKEN_CHECKSUM_BATCH_SIZE for ours (default: ours)")
    parser.add_argument(
        "--base-from",
        metavar="VERSION",
        help="build the 0011 snapshot with this upstream release instead of our package",
    )
    add_common_options(parser, DATABASE_NAME)
    args = parser.parse_args(argv)
    if args.tokens < 1 or args.repeat < 1:
        parser.error("--tokens and --repeat must be at least 1")
    return args


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


def say(message):
    """Progress on stderr, so that stdout carries only the results."""
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def abort(message, log_path=None):
    print(f"\nBENCHMARK FAILED: {message}", file=sys.stderr)
    if log_path:
        print(log_tail(log_path), file=sys.stderr)
    sys.exit(2)


def build_snapshot(database, python, rows, log_dir):
    """Migrate a fresh database to 0011 in a child, then insert ``rows`` tokens with bulk SQL."""
    database.recreate_base()
    child_vars = database.child_vars(database.base_name)
    for step, target in enumerate((["contenttypes"], ["auth"], ["oauth2_provider", "0011"])):
        run = migrate(python, target, child_vars, log_dir / f"snapshot-{step}-{target[0]}.log")
        if run.returncode != 0:
            abort(f"migrate {' '.join(target)} for the snapshot exited with {run.returncode}", run.log_path)
    started = time.perf_counter()
    database.fill(rows)
    return time.perf_counter() - started


def measure(database, contender, rows, log_path):
    """Copy the snapshot, migrate the copy to 0012 with ``contender``, check it; return the Run."""
    database.copy_base()
    child_vars = {**database.child_vars(database.work_name), **contender.settings}
    child = migrate(contender.python, ["oauth2_provider", "0012"], child_vars, log_path)
    rows_found, mismatched, applied = database.verify() if child.returncode == 0 else (0, 0, False)
    run = Run(
        wall_s=child.wall_s,
        peak_rss_kib=child.peak_rss_kib,
        returncode=child.returncode,
        expected_rows=rows,
        rows=rows_found,
        mismatched=mismatched,
        applied=applied,
        log=str(log_path),
    )
    if not run.ok:
        say(f"!!! {contender.label} FAILED; log tail:\n{log_tail(log_path)}")
    return run


def slug(label):
    return re.sub(r"[^A-Za-z0-9.]+", "-", label).strip("-")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["cleartokens"]:
        from .cleartokens import main as cleartokens_main

        return cleartokens_main(argv[1:])
    if argv[:1] == ["api"]:
        from .api import main as api_main

        return api_main(argv[1:])
    args = parse_args(argv)
    run_dir = WORK_DIR / f"{args.db}-{args.tokens}-{datetime.now():%Y%m%d-%H%M%S}"
    sqlite_dir = tempfile.TemporaryDirectory(prefix="dot_bench_")
    database = open_database(
        args.db, args.db_name, sqlite_dir.name, args.host, args.port, args.user, args.password
    )
    contenders = [contender_types.ours(args.batch_size), contender_types.one_update(args.tokens)]
    try:
        contenders += [contender_types.upstream(version, say) for version in args.against]
        base_python = sys.executable
        if args.base_from:
            base_python = contender_types.upstream_python(args.base_from, say)
    except subprocess.CalledProcessError as error:
        abort(f"could not build an upstream venv: {' '.join(map(str, error.cmd))}")
    server = database.server_version()
    results = [Result(contender.label, contender_types.describe(contender)) for contender in contenders]

    try:
        say(f"building the 0011 snapshot with {args.tokens:,} tokens on {args.db} (logs: {run_dir})")
        fill_s = build_snapshot(database, base_python, args.tokens, run_dir)
        say(f"inserted {args.tokens:,} tokens in {fill_s:.1f} s")
        for repetition in range(1, args.repeat + 1):
            for contender, result in zip(contenders, results, strict=True):
                say(f"run {repetition}/{args.repeat}: {contender.label}")
                log_path = run_dir / f"{slug(contender.label)}-{repetition}.log"
                result.runs.append(measure(database, contender, args.tokens, log_path))
                say(f"  {result.runs[-1].wall_s:.2f} s, {result.runs[-1].peak_rss_kib / 1024:.1f} MiB")
    finally:
        database.drop_all()
        sqlite_dir.cleanup()

    header = {
        "db": args.db,
        "server": server,
        "tokens": args.tokens,
        "repeat": args.repeat,
        "snapshot_built_with": args.base_from or "ours",
        "fill_s": round(fill_s, 2),
    }
    title = (
        f"migration 0012 on {args.db} ({header['server']}), {args.tokens:,} access tokens, median of"
        f" {args.repeat} run(s); snapshot migrated by {header['snapshot_built_with']}"
    )
    print_results(title, results, args.tokens, closing_line)
    if args.json:
        write_json(args.json, header, results, args.tokens)
    return exit_status(results)
