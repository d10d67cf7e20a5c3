"""``python -m benchmarks cleartokens``: time and peak memory of ``manage.py cleartokens`` on N tokens.

Steps: migrate a fresh database to the latest migration with our package (upstream 3.0.1 has the same
schema) and fill it with N access tokens, 98 % of them expired long ago, every even id with a refresh
token (the snapshot); then, for every contender and repetition, copy the snapshot, run
``python -m django cleartokens`` in a child process with ``REFRESH_TOKEN_EXPIRE_SECONDS`` set (so the
refresh tokens of the expired access tokens are expired too), measure that child alone and check that
exactly the valid tokens and their refresh tokens remain. The ``floor`` contender runs only the
DELETEs a correct windowed clean-up of this data cannot do without, as the yardstick for ours. See
README.md.
"""

import argparse
import sys
from dataclasses import dataclass

from . import contenders as contender_types
from .children import run_child
from .common import (
    exit_status,
    parse_scenario_args,
    run_directory,
    say,
    scratch_database,
    with_upstream,
)
from .databases import cleartokens_survivors
from .report import Run, measured_results, print_results, save_results
from .snapshots import mostly_expired_tokens


DATABASE_NAME = "dot_cleartokens_bench"
REFRESH_TOKEN_EXPIRE_SECONDS = 3600
COLUMNS = ("contender", "wall s", "peak RSS MiB", "tokens/s", "time x ours", "RSS x ours", "rows left")

CLEARTOKENS = ["-m", "django", "cleartokens"]

# The floor: the least a correct clean-up of the scenario's rows can cost when it deletes in committed
# windows. Nothing but one DELETE per window of the batch size along the id, refresh tokens first (their
# access tokens cannot go before them), each window in its own transaction, in a child started through
# ``python -m django`` like the command. It knows the data: no revoked or stranded refresh tokens, no ID
# tokens or grants, no access token created from a refresh token, so it skips every other step.
FLOOR_SCRIPT = """
from datetime import timedelta
from django.db import connection, transaction
from django.utils import timezone
from oauth2_provider.settings import oauth2_settings

now = timezone.now()
refresh_cutoff = now - timedelta(seconds=oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS)
batch = oauth2_settings.CLEAR_EXPIRED_TOKENS_BATCH_SIZE
# The refresh tokens' expiry is their access token's, found by one primary key probe per refresh token:
# a join on MySQL/MariaDB, a scalar subquery elsewhere (an IN or a join is planned there as a scan of
# every access token, in every window).
if connection.vendor == "mysql":
    refresh_tokens = (
        "DELETE r FROM oauth2_provider_refreshtoken r JOIN oauth2_provider_accesstoken a"
        " ON a.id = r.access_token_id WHERE r.id >= %s AND r.id < %s AND a.expires < %s"
    )
else:
    refresh_tokens = (
        "DELETE FROM oauth2_provider_refreshtoken WHERE id >= %s AND id < %s AND (SELECT expires"
        " FROM oauth2_provider_accesstoken a WHERE a.id = oauth2_provider_refreshtoken.access_token_id) < %s"
    )
access_tokens = "DELETE FROM oauth2_provider_accesstoken WHERE id >= %s AND id < %s AND expires < %s"
for table, delete, moment in (
    ("oauth2_provider_refreshtoken", refresh_tokens, refresh_cutoff),
    ("oauth2_provider_accesstoken", access_tokens, now),
):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id), MAX(id) FROM {table}")
        low, high = cursor.fetchone()
    for start in range(low or 0, (high or -1) + 1, batch):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(delete, [start, start + batch, moment])
"""
FLOOR = ["-m", "django", "shell", "--no-startup", "-c", FLOOR_SCRIPT]
FLOOR_CONTENDER = contender_types.Contender("floor", sys.executable)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks cleartokens", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--tokens", type=int, required=True, help="access tokens in the table")
    parser.add_argument(
        "--batch-size", type=int, help="CLEAR_EXPIRED_TOKENS_BATCH_SIZE for every contender (default: theirs)"
    )
    return parse_scenario_args(parser, argv, DATABASE_NAME)


@dataclass
class CleartokensRun(Run):
    """A ``cleartokens`` run: how many of the rows left are not the ones that should be."""

    wrong_rows: int

    def problem(self):
        if self.rows != self.expected_rows or self.wrong_rows:
            left = f"{self.rows} rows left, {self.expected_rows} expected"
            return f"{left}, {self.wrong_rows} differ from the expected ones"
        return None


def measure(database, contender, rows, bench_vars, log_path):
    """Copy the snapshot, run ``cleartokens`` (or the floor) with ``contender`` on the copy, check it."""
    database.copy_base()
    child_vars = {**database.child_vars(database.work_name), **bench_vars}
    command = FLOOR if contender is FLOOR_CONTENDER else CLEARTOKENS
    child = run_child(contender.python, command, child_vars, log_path)
    expected = cleartokens_survivors(rows)
    found = database.remaining_tokens() if child.returncode == 0 else ([], [])
    wrong = sum(len(set(want) ^ set(got)) for want, got in zip(expected, found, strict=True))
    return CleartokensRun.of(child, sum(map(len, expected)), sum(map(len, found)), wrong_rows=wrong)


def main(argv):
    args = parse_args(argv)
    run_dir = run_directory("cleartokens", args)
    bench_vars = {"BENCH_REFRESH_TOKEN_EXPIRE_SECONDS": str(REFRESH_TOKEN_EXPIRE_SECONDS)}
    if args.batch_size:
        bench_vars["BENCH_CLEAR_BATCH_SIZE"] = str(args.batch_size)
    contenders = with_upstream([contender_types.ours(), FLOOR_CONTENDER], args.against)

    with scratch_database(args) as database:
        server = database.server_version()
        say(f"building the snapshot with {args.tokens:,} tokens on {args.db} (logs: {run_dir})")
        mostly_expired_tokens(database, args.tokens, run_dir)

        def measure_one(contender, log_path):
            return measure(database, contender, args.tokens, bench_vars, log_path)

        results = measured_results(args, contenders, run_dir, measure_one)

    batch = args.batch_size or "default"
    title = (
        f"cleartokens on {args.db} ({server}), {args.tokens:,} access tokens (98 % expired, every other one"
        f" with a refresh token), batch size {batch}, median of {args.repeat} run(s)"
    )
    print_results(title, results, args.tokens, COLUMNS, "tokens", "exactly the valid tokens remain")
    ours, floor = results[:2]
    print(f"ours / floor: {ours.wall_s / floor.wall_s:.2f}")
    if args.json:
        header = {"scenario": "cleartokens", "db": args.db, "server": server, "tokens": args.tokens}
        save_results(
            args.json, {**header, "repeat": args.repeat, "batch_size": args.batch_size}, results, args.tokens
        )
    return exit_status([result.label for result in results if not result.ok])
