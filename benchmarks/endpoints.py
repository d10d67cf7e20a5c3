"""``python -m benchmarks endpoints``: requests/s and SQL statements/request of the authorization server.

    python -m benchmarks endpoints --db sqlite|postgres|mysql [--against 3.0.1] [--requests N]
        [--repeat R] [--secret clear|pbkdf2|fast] [--only client_credentials,revoke,...]

Steps: migrate a fresh database with our package (upstream 3.0.1 has the same schema) and fill it with
``--tokens`` access tokens (the cleartokens scenario's rows), the snapshot; then, for every repetition and
every endpoint, copy the snapshot once per contender (ours and each ``--against`` release in its venv
under ``_envs/``) and start a child process (``child/bench_endpoints.py``) per contender on its copy.
Each child creates its applications, codes and tokens through the models and warms up; then the parent
has them time the N requests in chunks of CHUNK_REQUESTS, one child after the other, the order rotated
every chunk. The machine's speed drifts (a shared host, frequency changes) over seconds: alternating
every few milliseconds gives every contender the same share of fast and slow moments, which whole runs
one after the other did not (their rates varied by a third from run to run here). Only one child works
at a time. Requests go through Django's test client; the SQL statements Django sends through its cursors
are counted: savepoints included, and SQLite's BEGIN, which Django sends itself, while the PostgreSQL and
MySQL drivers begin transactions on their own; COMMIT is never counted.

The table shows medians over the repetitions. There is no pass/fail on timings; a contender fails (exit
status 1) when an endpoint answers with another status than a correct server gives (200, and 302 for the
approval), or when its child crashes.
"""

import argparse
from dataclasses import dataclass

from . import contenders as contender_types
from .children import ChildGone, Conversation, log_tail
from .common import (
    RequestCell,
    child_files,
    exit_status,
    format_table,
    parse_scenario_args,
    run_directory,
    save_cells,
    say,
    scratch_database,
    slug,
    with_upstream,
)
from .snapshots import mostly_expired_tokens


DATABASE_NAME = "dot_endpoints_bench"
# In the child's order; the table lists them so.
ENDPOINTS = (
    "client_credentials",
    "password",
    "authorization_code",
    "refresh_token",
    "introspect",
    "revoke",
    "userinfo",
    "consent",
    "approve",
)
SECRET_MODES = ("clear", "pbkdf2", "fast")


def endpoint_list(value):
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - set(ENDPOINTS))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown endpoint(s) {', '.join(unknown)}; choose from {', '.join(ENDPOINTS)}"
        )
    return names


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks endpoints", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--requests", type=int, default=400, help="timed requests per endpoint")
    parser.add_argument("--tokens", type=int, default=10_000, help="access tokens already in the table")
    parser.add_argument(
        "--secret",
        choices=SECRET_MODES,
        default="clear",
        help="client secrets stored in clear (default), by Django's PBKDF2, or by one PBKDF2 iteration",
    )
    parser.add_argument(
        "--only", type=endpoint_list, default=[], help="comma-separated endpoints (default: all)"
    )
    args = parse_scenario_args(parser, argv, DATABASE_NAME, fewest_tokens=100)
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    return args


@dataclass(kw_only=True)
class Cell(RequestCell):
    """Every run of one (contender, endpoint) pair."""

    endpoint: str
    expected: int


def interleaved(contenders, turn):
    """The contenders in the order of this turn: rotated by one each time, so that no contender always
    runs right after another's child."""
    shift = (turn - 1) % len(contenders)
    return contenders[shift:] + contenders[:shift]


# Requests one child times before the parent turns to the next contender's child.
CHUNK_REQUESTS = 20


def chunks(requests):
    """``requests`` cut into chunks of CHUNK_REQUESTS, the last one shorter."""
    full, rest = divmod(requests, CHUNK_REQUESTS)
    return [CHUNK_REQUESTS] * full + ([rest] if rest else [])


def start_children(database, contenders, endpoint, args, log_stems):
    """One child per contender for ``endpoint``, each on a copy of the snapshot of its own, started one
    after the other and ready (fixtures made, warmed up): ``{label: Conversation}`` of those that started,
    and the labels of those that crashed on the way."""
    children, crashed = {}, []
    for number, contender in enumerate(contenders):
        name = f"{database.work_name}_{number}"
        database.copy_base(name)
        bench_vars = {
            **database.child_vars(name),
            "BENCH_ENDPOINTS_REQUESTS": str(args.requests),
            "BENCH_ENDPOINTS_SECRET": args.secret,
            "BENCH_ENDPOINTS_ENDPOINT": endpoint,
        }
        log_path, _ = child_files(log_stems[contender.label])
        try:
            children[contender.label] = Conversation(
                contender.python, ["-m", "bench_endpoints"], bench_vars, log_path
            )
        except ChildGone as gone:
            say(f"!!! {contender.label} {gone}; log tail:\n{log_tail(log_path)}")
            crashed.append(contender.label)
    return children, crashed


def measure(database, contenders, endpoint, args, log_stems, repetition):
    """Time ``endpoint`` with every contender's child, alternating between them chunk by chunk, the order
    rotated every chunk: ``({label: run}, crashed labels)``, each run the sum of its chunks."""
    children, crashed = start_children(database, contenders, endpoint, args, log_stems)
    runs = {
        label: {
            "expected": child.greeting["expected"],
            "statuses": [],
            "seconds": 0.0,
            "cpu_seconds": 0.0,
            "queries": 0,
        }
        for label, child in children.items()
    }

    def lost(label, why):
        child = children.pop(label)
        say(f"!!! {label} {why}; log tail:\n{log_tail(child.log_path)}")
        crashed.append(label)
        del runs[label]

    try:
        for number, size in enumerate(chunks(args.requests)):
            for contender in interleaved(contenders, repetition + number):
                if contender.label not in children:
                    continue
                try:
                    chunk = children[contender.label].ask(f"run {size}")
                except ChildGone as gone:
                    lost(contender.label, gone)
                    continue
                run = runs[contender.label]
                run["statuses"] = sorted(set(run["statuses"]).union(chunk["statuses"]))
                for key in ("seconds", "cpu_seconds", "queries"):
                    run[key] += chunk[key]
    finally:
        for label, child in list(children.items()):
            status = child.close()
            if status != 0:
                lost(label, f"exited with {status}")
    return runs, crashed


COLUMNS = (
    "endpoint",
    "contender",
    "status",
    "requests/s",
    "req/s x ours",
    "CPU ms/request",
    "CPU x ours",
    "statements/request",
)


def table(cells, contenders):
    """Aligned rows by endpoint, then in the order of ``contenders`` (labels, ours first); the ``x ours``
    columns divide by ours (``-`` where ours crashed)."""
    ours = {cell.endpoint: cell for cell in cells if cell.contender == contenders[0]}

    def times_ours(cell, measure):
        reference = ours.get(cell.endpoint)
        return "-" if reference is None else f"{measure(cell) / measure(reference):.2f}"

    rows = [COLUMNS]
    for cell in sorted(cells, key=lambda c: (ENDPOINTS.index(c.endpoint), contenders.index(c.contender))):
        rows.append(
            (
                cell.endpoint,
                cell.contender,
                cell.status,
                f"{cell.requests_per_s:,.0f}",
                times_ours(cell, lambda c: c.requests_per_s),
                f"{cell.cpu_ms_per_request:.2f}",
                times_ours(cell, lambda c: c.cpu_ms_per_request),
                f"{cell.statements_per_request:.2f}",
            )
        )
    return format_table(rows, text_columns=3)


def verdicts(cells, contenders):
    """One line per upstream contender: where ours is slower (requests/s), costs more CPU per request or
    sends more statements than it."""
    ours = {cell.endpoint: cell for cell in cells if cell.contender == contenders[0]}
    lines = []
    for label in contenders[1:]:
        theirs = {cell.endpoint: cell for cell in cells if cell.contender == label}
        common = [name for name in ENDPOINTS if name in ours and name in theirs]
        rate = {name: ours[name].requests_per_s / theirs[name].requests_per_s for name in common}
        cpu = {name: ours[name].cpu_ms_per_request / theirs[name].cpu_ms_per_request for name in common}
        more = [
            f"{name} {ours[name].statements_per_request:.2f} vs {theirs[name].statements_per_request:.2f}"
            for name in common
            if ours[name].statements_per_request > theirs[name].statements_per_request
        ]
        lines.append(
            f"ours vs {label}: requests/s {_ratios(rate, below_one=True)}; CPU per request"
            f" {_ratios(cpu, below_one=False)}; more statements on: {', '.join(more) or 'none'}"
        )
    return lines


def _ratios(ratios, below_one):
    """``min 0.97x, worse on: a 0.97x`` for ratios where below 1 (or, with ``below_one=False``, above 1)
    is worse for ours."""
    worse = {name: value for name, value in ratios.items() if (value < 1 if below_one else value > 1)}
    extreme = (min if below_one else max)(ratios.values(), default=float("nan"))
    listed = ", ".join(f"{name} {value:.2f}x" for name, value in worse.items()) or "none"
    return f"{'lowest' if below_one else 'highest'} {extreme:.2f}x, worse on: {listed}"


def main(argv):
    args = parse_args(argv)
    run_dir = run_directory(f"endpoints-{args.secret}", args)
    run_dir.mkdir(parents=True, exist_ok=True)
    contenders = with_upstream([contender_types.ours()], args.against)
    packages = {contender.label: contender_types.describe(contender) for contender in contenders}

    cells, crashed = {}, []
    with scratch_database(args) as database:
        server = database.server_version()
        say(f"building the snapshot with {args.tokens:,} tokens on {args.db} (logs: {run_dir})")
        mostly_expired_tokens(database, args.tokens, run_dir)
        for repetition in range(1, args.repeat + 1):
            for endpoint in args.only or ENDPOINTS:
                say(f"run {repetition}/{args.repeat}: {endpoint}")
                log_stems = {
                    contender.label: run_dir / f"{endpoint}-{slug(contender.label)}-{repetition}"
                    for contender in contenders
                }
                runs, lost = measure(database, contenders, endpoint, args, log_stems, repetition)
                crashed.extend(lost)
                for label, run in runs.items():
                    key = (label, endpoint)
                    if key not in cells:
                        cells[key] = Cell(
                            contender=label,
                            endpoint=endpoint,
                            expected=run["expected"],
                            requests=args.requests,
                        )
                    cells[key].add_run(run)

    print(
        f"authorization server endpoints on {args.db} ({server}), client secrets stored {args.secret},"
        f" {args.tokens:,} access tokens in the table, {args.requests:,} requests per endpoint through"
        f" Django's test client, median of {args.repeat} run(s)"
    )
    for label, package in packages.items():
        print(f"  {label}: {package}")
    print()
    cells = list(cells.values())
    if cells:
        print(table(cells, list(packages)))
        print()
        print("\n".join(verdicts(cells, list(packages))))
    if args.json:
        save_cells(args, "endpoints", server, packages, cells, _JSON_OPTIONS, _JSON_CELL_FIELDS)
    wrong = {cell.contender for cell in cells if not cell.ok}
    return exit_status(sorted(wrong.union(crashed)))


# What --json keeps of the run and of each cell.
_JSON_OPTIONS = ("secret", "tokens", "requests", "repeat")
_JSON_CELL_FIELDS = (
    "contender",
    "endpoint",
    "ok",
    "statuses",
    "requests_per_s",
    "cpu_ms_per_request",
    "statements_per_request",
    "seconds",
    "cpu_seconds",
    "queries",
)
