"""``python -m benchmarks online``: what the live site feels while 0012 is deployed, step by step.

    python -m benchmarks online --tokens N --db postgres|mysql [--against 3.4.1] [--live-interval 0.01]

Steps: build the 0011 snapshot with N tokens (as the migration benchmark does); then, each on a fresh
copy of it, play the deploy paths while two versions of the site run in this process, each on its own
connection (``LiveCode``): "old" code (pre-0012) reads a token by ``token`` and inserts one without a
checksum every ``--live-interval`` seconds; "new" code reads by ``token_checksum`` and inserts with it.

* ``online`` (ours): ``tokenchecksum prepare`` (old code live), ``migrate`` (both), a rollout window
  (both), ``tokenchecksum finish`` (new code only); on MariaDB/MySQL twice, as ``online copy`` (``prepare
  --method copy``, the table copy) and ``online in-place`` (``prepare --method in-place``);
* ``plain`` (ours, and each ``--against`` release): ``migrate`` (old code live), then a window with the new
  code only.

Each step is a child process (``python -m django ...``); ours import ``oauth2_provider`` from this checkout
(``children.SOURCE_TREE``), and the header names what each path's children import. Per step the table shows
its exit status and duration, and for each version of the code live during it the longest wait of a read and
of a write and the number of failed calls. After each path every checksum is checked (``sha256`` of the
token's UTF-8 bytes) and 0012 must be recorded as applied. The exit status is 1 when a step failed or a
checksum is wrong; failed live calls are reported, not judged (the plain path is expected to fail old code
after 0012).
"""

import argparse
import hashlib
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field

from . import contenders as contender_types
from .children import SOURCE_TREE, log_tail, run_child
from .common import format_table, parse_scenario_args, run_directory, say, scratch_database, slug
from .databases import EXPIRES, SCOPE, TIMESTAMP, TOKEN_TABLE, token_for_row
from .snapshots import tokens_before_0012


DATABASE_NAME = "dot_online_bench"
ROLLOUT_SECONDS = 3.0
KINDS = ("old", "new")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks online", description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, required=True, help="access tokens in the table")
    parser.add_argument(
        "--live-interval", type=float, default=0.01, help="seconds between two calls of each live version"
    )
    args = parse_scenario_args(parser, argv, DATABASE_NAME)
    if args.db == "sqlite":
        parser.error("SQLite has one writer and no online path: see docs/upgrading.rst")
    if args.live_interval <= 0:
        parser.error("--live-interval must be above 0")
    return args


@dataclass
class Calls:
    """The calls of one kind (read or write) of one code version during one step."""

    waits: list = field(default_factory=list)
    failures: list = field(default_factory=list)

    @property
    def longest(self):
        return max(self.waits, default=0.0)


class LiveCode(threading.Thread):
    """One version of the site on its own connection, timing every call; ``step`` labels what it records."""

    def __init__(self, kind, database, rows, interval):
        super().__init__(daemon=True)
        self.kind, self.database, self.rows, self.interval = kind, database, rows, interval
        self.step = None  # None: this version does not run now
        self.calls = {}  # (step, "read"|"write") -> Calls
        self.stopping = threading.Event()
        self.number = 0

    def run(self):
        with self.database.connect(self.database.work_name) as connection:
            cursor = connection.cursor()
            while not self.stopping.is_set():
                step = self.step
                if step is not None:
                    self.call(cursor, step, "read", self.read)
                    self.call(cursor, step, "write", self.write)
                time.sleep(self.interval)

    def call(self, cursor, step, what, action):
        calls = self.calls.setdefault((step, what), Calls())
        started = time.perf_counter()
        try:
            action(cursor)
        except Exception as error:  # any driver error is a failed call of the live site
            calls.failures.append(f"{type(error).__name__}: {error}".splitlines()[0])
            self._recover(cursor)
        calls.waits.append(time.perf_counter() - started)

    def _recover(self, cursor):
        try:
            cursor.connection.rollback()
        except Exception:  # the connection may be gone; the next call reports it
            pass

    def read(self, cursor):
        token = token_for_row(random.randint(1, self.rows))
        if self.kind == "old":
            cursor.execute(f"SELECT id FROM {TOKEN_TABLE} WHERE token = %s", (token,))
        else:
            cursor.execute(f"SELECT id FROM {TOKEN_TABLE} WHERE token_checksum = %s", (_checksum(token),))
        if cursor.fetchone() is None:
            raise LookupError(f"token of row not found by {self.kind} code")

    def write(self, cursor):
        self.number += 1
        token = f"live-{self.kind}-{self.number}-{time.time_ns()}"
        if self.kind == "old":
            cursor.execute(
                f"INSERT INTO {TOKEN_TABLE} (token, expires, scope, created, updated)"
                " VALUES (%s, %s, %s, %s, %s)",
                (token, EXPIRES, SCOPE, TIMESTAMP, TIMESTAMP),
            )
        else:
            cursor.execute(
                f"INSERT INTO {TOKEN_TABLE} (token, token_checksum, expires, scope, created, updated)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (token, _checksum(token), EXPIRES, SCOPE, TIMESTAMP, TIMESTAMP),
            )

    def stop(self):
        self.stopping.set()
        self.join(timeout=120)


def _checksum(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class Step:
    """One step of a deploy path: what ran, how it ended, and what each live version saw meanwhile."""

    path: str
    name: str
    returncode: int
    seconds: float
    live: dict  # kind -> {"read": Calls, "write": Calls}
    log: str


# Which versions of the code are live during each step of each path.
def online_steps(method=None):
    prepare = ["-m", "django", "tokenchecksum", "prepare", *(["--method", method] if method else [])]
    return (
        ("prepare", prepare, ("old",)),
        ("migrate", ["-m", "django", "migrate", "oauth2_provider", "0012", "--no-input"], ("old", "new")),
        ("rollout", None, ("old", "new")),
        ("finish", ["-m", "django", "tokenchecksum", "finish"], ("new",)),
    )


ONLINE_STEPS = online_steps()
PLAIN_STEPS = (
    ("migrate", ["-m", "django", "migrate", "oauth2_provider", "0012", "--no-input"], ("old",)),
    ("rollout", None, ("new",)),
)


def play(database, label, python, steps, args, run_dir, source=None):
    """Run ``steps`` on a fresh copy of the snapshot with both versions live; return the Steps, the check."""
    database.copy_base()
    live = {kind: LiveCode(kind, database, args.tokens, args.live_interval) for kind in KINDS}
    for thread in live.values():
        thread.start()
    results = []
    try:
        for name, command, kinds in steps:
            for kind, thread in live.items():
                thread.step = name if kind in kinds else None
            time.sleep(0.2)  # every live version is in this step before it starts
            log_path = run_dir / f"{slug(label)}-{name}.log"
            started = time.perf_counter()
            if command is None:
                time.sleep(ROLLOUT_SECONDS)
                returncode = 0
                log_path.parent.mkdir(parents=True, exist_ok=True)
                log_path.write_text(f"{ROLLOUT_SECONDS} s with {', '.join(kinds)} code live\n")
            else:
                returncode = run_child(
                    python, command, database.child_vars(database.work_name), log_path, source
                ).returncode
            seconds = time.perf_counter() - started
            time.sleep(0.2)  # calls that waited for the step end inside it
            seen = {
                kind: {what: live[kind].calls.get((name, what), Calls()) for what in ("read", "write")}
                for kind in kinds
            }
            results.append(Step(label, name, returncode, seconds, seen, str(log_path)))
            say(f"  {label} {name}: exit {returncode}, {seconds:.1f} s")
            if returncode != 0:
                say(f"!!! {label} {name} FAILED; log tail:\n{log_tail(log_path)}")
                break
    finally:
        for thread in live.values():
            thread.stop()
    rows, mismatched, applied = database.verify()
    return results, (rows, mismatched, applied)


COLUMNS = ("path", "step", "exit", "seconds", "code", "calls", "longest read s", "longest write s", "failed")


def table(steps):
    lines = [COLUMNS]
    for step in steps:
        for kind, calls in step.live.items():
            failed = len(calls["read"].failures) + len(calls["write"].failures)
            lines.append(
                (
                    step.path,
                    step.name,
                    str(step.returncode),
                    f"{step.seconds:.1f}",
                    kind,
                    str(len(calls["read"].waits) + len(calls["write"].waits)),
                    f"{calls['read'].longest:.3f}",
                    f"{calls['write'].longest:.3f}",
                    str(failed),
                )
            )
    return format_table(lines, text_columns=len(COLUMNS))


def first_failures(steps):
    """One line per (step, version, kind of call) that failed, with the first error."""
    for step in steps:
        for kind, calls in step.live.items():
            for what, found in calls.items():
                if found.failures:
                    yield (
                        f"  {step.path} {step.name}: {len(found.failures)} failed {kind}-code {what}s,"
                        f" first: {found.failures[0]}"
                    )


def main(argv):
    args = parse_args(argv)
    run_dir = run_directory("online", args)
    if args.db == "mysql":
        # The table copy (MariaDB's default) and today's in-place path, each a contender of its own.
        online_paths = [("online copy", online_steps("copy")), ("online in-place", online_steps("in-place"))]
    else:
        online_paths = [("online", ONLINE_STEPS)]
    paths = [(label, sys.executable, steps, SOURCE_TREE) for label, steps in online_paths]
    paths.append(("plain", sys.executable, PLAIN_STEPS, SOURCE_TREE))
    for version in args.against:
        upstream = contender_types.upstream(version, say).python
        paths.append((f"plain {version}", upstream, PLAIN_STEPS, None))
    imported = {}
    steps, checks = [], []
    with scratch_database(args) as database:
        server = database.server_version()
        say(f"building the 0011 snapshot with {args.tokens:,} tokens on {args.db} (logs: {run_dir})")
        fill_s = tokens_before_0012(database, sys.executable, args.tokens, run_dir)
        say(f"inserted {args.tokens:,} tokens in {fill_s:.1f} s")
        for label, python, path_steps, source in paths:
            imported[label] = contender_types.describe(contender_types.Contender(label, python), source)
            say(f"path {label}: {imported[label]}")
            played, check = play(database, label, python, path_steps, args, run_dir, source)
            steps += played
            checks.append((label, played, check))

    print(
        f"0012 with live traffic on {args.db} ({server}), {args.tokens:,} access tokens; each live version"
        f" calls every {args.live_interval} s on its own connection"
    )
    for label, description in imported.items():
        print(f"  {label}: {description}")
    print()
    print(table(steps))
    failures = list(first_failures(steps))
    if failures:
        print("\nfailed live calls:")
        print("\n".join(failures))
    print()
    status = 0
    for label, played, (rows, mismatched, applied) in checks:
        ok = applied and not mismatched and all(step.returncode == 0 for step in played)
        status |= not ok
        waits = [calls.longest for step in played for kinds in step.live.values() for calls in kinds.values()]
        exits = "every step exited 0" if all(s.returncode == 0 for s in played) else "a step FAILED"
        print(
            f"{label}: {exits};"
            f" {rows:,} rows, {mismatched} wrong checksums, 0012 {'applied' if applied else 'NOT applied'};"
            f" longest live wait {max(waits, default=0):.3f} s (median of the per-step maxima"
            f" {statistics.median(waits) if waits else 0:.3f} s)."
        )
    return status
