"""``python -m benchmarks api``: requests/s and queries/request of the resource server, per kind of token.

    python -m benchmarks api --db sqlite|postgres|mysql [--against 3.0.1] [--requests N] [--repeat R]

Steps: migrate a fresh database with our package (upstream 3.0.1 has the same schema) and fill it with
``--tokens`` access tokens, the cleartokens scenario's rows (2 % valid, the others expired long ago);
then, for every contender (ours, and each ``--against`` release in its venv under ``_envs/``, with Django
REST framework added) and repetition, a child process (``child/bench_api.py``) serves a
``ProtectedResourceView`` and a DRF view (``OAuth2Authentication`` + ``TokenHasScope``) in-process
through Django's test client, and times N requests to each with a valid, an unknown and an expired bearer
token, counting the queries. The children only read the database, so they all use the snapshot itself.

The table shows medians over the repetitions. There is no pass/fail on timings; a contender fails (exit
status 1) when a view answers with another status than a resource server must (200 for the valid token;
403 from the Django view and 401 from the DRF view for the others), or when its child crashes.
"""

import argparse
import json
from dataclasses import dataclass

from . import contenders as contender_types
from .children import log_tail, run_child
from .common import (
    RequestCell,
    child_files,
    exit_status,
    format_table,
    parse_scenario_args,
    repetitions,
    run_directory,
    save_cells,
    say,
    scratch_database,
    slug,
    with_upstream,
)
from .databases import cleartokens_survivors
from .snapshots import mostly_expired_tokens


DATABASE_NAME = "dot_api_bench"

# Expected status per view for each kind of token; the table lists views and token kinds in this order.
EXPECTED_STATUS = {
    "protected": {"valid": 200, "unknown": 403, "expired": 403},
    "drf": {"valid": 200, "unknown": 401, "expired": 401},
}
UNKNOWN_TOKEN = "bench-no-such-token"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks api", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per view and token")
    parser.add_argument("--tokens", type=int, default=10_000, help="access tokens in the table")
    args = parse_scenario_args(parser, argv, DATABASE_NAME, fewest_tokens=100)
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    return args


def bearer_tokens(rows):
    """Token kind -> token string: a valid and an expired row of the snapshot, and a token nobody has.

    The snapshot's tokens are ``ct-<row>`` (see ``Database.fill_expired``).
    """
    live = set(cleartokens_survivors(rows)[0])
    expired = next(row for row in range(1, rows + 1) if row not in live)
    return {"valid": f"ct-{min(live)}", "unknown": UNKNOWN_TOKEN, "expired": f"ct-{expired}"}


@dataclass(kw_only=True)
class Cell(RequestCell):
    """Every run of one (contender, view, token kind) triple."""

    view: str
    token: str

    @property
    def expected(self):
        return EXPECTED_STATUS[self.view][self.token]


def measure(database, contender, requests, tokens, log_stem):
    """Run the child of ``contender`` on the snapshot; return its runs, one per (view, token kind), or
    None when it failed."""
    log_path, result_path = child_files(log_stem)
    bench_vars = {
        **database.child_vars(database.base_name),
        "BENCH_API_REQUESTS": str(requests),
        "BENCH_API_TOKENS": json.dumps(tokens),
        "BENCH_API_RESULT": str(result_path),
    }
    child = run_child(contender.python, ["-m", "bench_api"], bench_vars, log_path)
    if child.returncode != 0:
        say(f"!!! {contender.label} exited with {child.returncode}; log tail:\n{log_tail(log_path)}")
        return None
    return json.loads(result_path.read_text())


COLUMNS = ("view", "token", "contender", "status", "requests/s", "queries/request", "req/s x ours")
# The first TEXT_COLUMNS columns are left-aligned, the numbers right-aligned.
TEXT_COLUMNS = 4


def table(cells):
    """The cells as an aligned table grouped by view and token kind, contenders in the order they ran
    (``ours`` first); the last column divides by the first contender's requests/s."""
    ours = {(cell.view, cell.token): cell for cell in cells if cell.contender == cells[0].contender}
    contenders = list(dict.fromkeys(cell.contender for cell in cells))
    views = list(EXPECTED_STATUS)

    def order(cell):
        kinds = list(EXPECTED_STATUS[cell.view])
        return views.index(cell.view), kinds.index(cell.token), contenders.index(cell.contender)

    lines = [COLUMNS]
    for cell in sorted(cells, key=order):
        reference = ours[cell.view, cell.token]
        lines.append(
            (
                cell.view,
                cell.token,
                cell.contender,
                cell.status,
                f"{cell.requests_per_s:,.0f}",
                f"{cell.statements_per_request:.2f}",
                f"{cell.requests_per_s / reference.requests_per_s:.2f}",
            )
        )
    return format_table(lines, TEXT_COLUMNS)


def main(argv):
    args = parse_args(argv)
    run_dir = run_directory("api", args)
    run_dir.mkdir(parents=True, exist_ok=True)
    contenders = with_upstream([contender_types.ours()], args.against)
    packages = {contender.label: contender_types.describe(contender) for contender in contenders}
    tokens = bearer_tokens(args.tokens)

    cells, crashed = {}, []
    with scratch_database(args) as database:
        server = database.server_version()
        say(f"building the snapshot with {args.tokens:,} tokens on {args.db} (logs: {run_dir})")
        mostly_expired_tokens(database, args.tokens, run_dir)
        for repetition, contender in repetitions(args, contenders):
            log_stem = run_dir / f"{slug(contender.label)}-{repetition}"
            runs = measure(database, contender, args.requests, tokens, log_stem)
            if runs is None:
                crashed.append(contender.label)
            for run in runs or ():
                key = (contender.label, run["view"], run["token"])
                cell = Cell(contender=key[0], view=key[1], token=key[2], requests=run["requests"])
                cells.setdefault(key, cell).add_run(run)

    print(
        f"resource server on {args.db} ({server}), {args.tokens:,} access tokens in the table,"
        f" {args.requests:,} requests per view and token through Django's test client,"
        f" median of {args.repeat} run(s)"
    )
    for label, package in packages.items():
        print(f"  {label}: {package}")
    print()
    cells = list(cells.values())
    if cells:
        print(table(cells))
    if args.json:
        save_cells(args, "api", server, packages, cells, _JSON_OPTIONS, _JSON_CELL_FIELDS)
    wrong = {cell.contender for cell in cells if not cell.ok}
    return exit_status(sorted(wrong.union(crashed)))


# What --json keeps of the run and of each cell.
_JSON_OPTIONS = ("tokens", "requests", "repeat")
_JSON_CELL_FIELDS = (
    "contender",
    "view",
    "token",
    "ok",
    "statuses",
    "requests_per_s",
    "statements_per_request",
    "seconds",
    "queries",
)
