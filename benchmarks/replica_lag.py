"""``python -m benchmarks lag``: how far a replica falls behind during ``tokenchecksum prepare`` and
``cleartokens``, with the pace set by ``REPLICA_LAG_DATABASES`` off and on.

The benchmark starts a primary and a replica of its own (``tests/replica_pair.py`` on PostgreSQL, a
streaming hot standby; ``tests/mariadb_binlog.py`` on MariaDB, a binary-log replica), both applying at
once (no configured delay). For each job and pace it builds the table on the primary (N tokens at 0011
for ``prepare``; N tokens, 98 % expired, at the latest migration for ``cleartokens``), waits for the
replica, then runs the job in a child process while a heartbeat measures the lag independently of the
pace's own reading: a thread writes the time into a one-row table on the primary every 50 ms, another
reads it on the replica every 50 ms; lag = now - the time the replica shows.
"""

import argparse
import re
import signal
import statistics
import sys
import threading
import time
from pathlib import Path

from .children import run_child
from .common import format_table, run_directory, say
from .databases import open_database
from .snapshots import mostly_expired_tokens, tokens_before_0012


HEARTBEAT_SECONDS = 0.05
JOBS = {
    # The in-place method, whose figures docs/high_volume.rst gives; "prepare-copy" is MariaDB's table copy.
    "prepare": (["-m", "django", "tokenchecksum", "prepare", "--method", "in-place"], tokens_before_0012),
    "prepare-copy": (["-m", "django", "tokenchecksum", "prepare", "--method", "copy"], tokens_before_0012),
    "cleartokens": (["-m", "django", "cleartokens"], None),
}
COLUMNS = ("job", "pace", "wall s", "waited s", "max lag s", "p95 lag s", "mean lag s", "lag samples")
# The summary line of each paced walk (``oauth2_provider._batching``).
WAITED = re.compile(r"waited ([0-9.]+)s in all for replicas")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks lag", description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("postgres", "mysql"), required=True)
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument(
        "--jobs",
        default="prepare,cleartokens",
        help="comma-separated: prepare,prepare-copy (MariaDB),cleartokens",
    )
    parser.add_argument("--max-lag", type=float, default=1.0, help="REPLICA_LAG_MAX_SECONDS when paced")
    parser.add_argument("--batch-size", type=int, help="TOKEN_CHECKSUM_/CLEAR_EXPIRED_TOKENS_BATCH_SIZE")
    args = parser.parse_args(argv)
    args.jobs = [job for job in args.jobs.split(",") if job]
    unknown = set(args.jobs) - set(JOBS)
    if unknown or args.tokens < 1:
        parser.error(f"unknown jobs {sorted(unknown)}" if unknown else "--tokens must be at least 1")
    return args


class Heartbeat:
    """Writes the time on the primary and reads it back on the replica, keeping the lag seen."""

    def __init__(self, primary, replica):
        self.primary, self.replica = primary, replica
        self.samples = []
        self.stopping = threading.Event()
        with primary.connect(primary.base_name) as connection:
            cursor = connection.cursor()
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS bench_heartbeat (id INT PRIMARY KEY, beat DOUBLE PRECISION)"
            )
            cursor.execute("DELETE FROM bench_heartbeat")
            cursor.execute(f"INSERT INTO bench_heartbeat VALUES (1, {time.time()})")

    def _write(self):
        with self.primary.connect(self.primary.base_name) as connection:
            cursor = connection.cursor()
            while not self.stopping.wait(HEARTBEAT_SECONDS):
                cursor.execute(f"UPDATE bench_heartbeat SET beat = {time.time()} WHERE id = 1")

    def _beat_on_replica(self):
        """The time the replica shows, or None before the heartbeat table has reached it."""
        with self.replica.connect(self.replica.base_name) as connection:
            cursor = connection.cursor()
            try:
                cursor.execute("SELECT beat FROM bench_heartbeat WHERE id = 1")
            except Exception:  # psycopg's or MySQLdb's "no such table": the replica is that far behind
                return None
            row = cursor.fetchone()
            return row[0] if row else None

    def _read(self, record):
        while not self.stopping.wait(HEARTBEAT_SECONDS):
            beat = self._beat_on_replica()
            if record.is_set() and beat is not None:
                self.samples.append(time.time() - beat)

    def caught_up(self, seconds=0.5, timeout=900):
        """Wait until the replica is less than ``seconds`` behind (the table just built has reached it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            beat = self._beat_on_replica()
            if beat is not None and time.time() - beat < seconds:
                return
            time.sleep(0.2)
        raise RuntimeError("the replica did not catch up")

    def __enter__(self):
        self.record = threading.Event()
        self.threads = [
            threading.Thread(target=self._write, daemon=True),
            threading.Thread(target=self._read, args=(self.record,), daemon=True),
        ]
        for thread in self.threads:
            thread.start()
        self.caught_up()
        self.record.set()
        return self

    def __exit__(self, *exc_info):
        self.stopping.set()
        for thread in self.threads:
            thread.join()


def servers(vendor):
    """The primary and replica ports, from the project's test servers (started here, stopped after)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if vendor == "postgres":
        from tests.replica_pair import replica_pair

        return replica_pair(0), "postgres"
    from tests.mariadb_binlog import binlog_servers

    return binlog_servers(0), "admin"


def _replica_applies_the_fill(replica):
    """Let the replica's SQL thread replay the fill's recursive CTE, which the loader runs with a raised
    ``max_recursive_iterations`` of its session (statement-based under MariaDB's default MIXED format)."""
    with replica.connect(None) as connection:
        cursor = connection.cursor()
        cursor.execute("STOP REPLICA SQL_THREAD")
        cursor.execute("SET GLOBAL max_recursive_iterations = 4294967295")
        cursor.execute("START REPLICA SQL_THREAD")


def one_run(args, job, paced, primary, replica, run_dir):
    command, build = JOBS[job]
    log_dir = run_dir / f"{job}-{'paced' if paced else 'unpaced'}"
    say(f"{job}, {'paced' if paced else 'unpaced'}: building {args.tokens:,} tokens")
    if build is None:
        mostly_expired_tokens(primary, args.tokens, log_dir)
    else:
        build(primary, sys.executable, args.tokens, log_dir)
    bench_vars = {
        **primary.child_vars(primary.base_name),
        "BENCH_REPLICA_PORT": str(replica.port),
        "BENCH_REFRESH_TOKEN_EXPIRE_SECONDS": "3600",
    }
    if paced:
        bench_vars["BENCH_REPLICA_LAG_MAX_SECONDS"] = str(args.max_lag)
    if args.batch_size:
        bench_vars["BENCH_BATCH_SIZE"] = bench_vars["BENCH_CLEAR_BATCH_SIZE"] = str(args.batch_size)
    with Heartbeat(primary, replica) as heartbeat:
        say(f"{job}: running with the replica caught up")
        run = run_child(sys.executable, command, bench_vars, log_dir / f"{job}.log")
    log = run.log_path.read_text()
    if run.returncode:
        print(log[-3000:], file=sys.stderr)
        raise SystemExit(f"{job} exited with {run.returncode}")
    samples = sorted(heartbeat.samples)
    p95 = samples[int(0.95 * (len(samples) - 1))] if samples else float("nan")
    return (
        job,
        f"max {args.max_lag:g} s" if paced else "off",
        f"{run.wall_s:.1f}",
        f"{sum(float(seconds) for seconds in WAITED.findall(log)):.1f}",
        f"{max(samples):.2f}",
        f"{p95:.2f}",
        f"{statistics.fmean(samples):.2f}",
        str(len(samples)),
    )


def main(argv):
    args = parse_args(argv)
    # Stopped by a signal, the servers started here are stopped too (the context managers' finally).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run_dir = run_directory("lag", args)
    context, user = servers(args.db)
    with context as (primary_port, replica_port):
        primary = open_database(args.db, "dot_lag_bench", None, "127.0.0.1", primary_port, user)
        replica = open_database(args.db, "dot_lag_bench", None, "127.0.0.1", replica_port, user)
        say(f"{primary.server_version()}: primary on {primary_port}, replica on {replica_port}")
        if args.db == "mysql":
            _replica_applies_the_fill(replica)
        rows = [COLUMNS]
        for job in args.jobs:
            for paced in (False, True):
                rows.append(one_run(args, job, paced, primary, replica, run_dir))
    print(f"\nreplica lag, {args.tokens:,} tokens, {args.db}, batch size {args.batch_size or 'default'}")
    print(format_table(rows, text_columns=2))
    return 0
