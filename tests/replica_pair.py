"""A PostgreSQL primary with a streaming hot standby of our own, for the read-replica tests.

The machine's server refuses replication connections, so ``initdb`` makes a pair on free ports in a
temporary folder, the standby applying WAL ``DOT_TEST_REPLICA_DELAY_MS`` milliseconds late (default 2000:
a replica always behind, so that a read that must not go there is seen going there). Run as::

    python -m tests.replica_pair -- python -m pytest tests/test_replicas.py --ds=tests.settings_replica

It starts both, creates the database, runs the command with ``DOT_TEST_REPLICA_PRIMARY_PORT`` and
``DOT_TEST_REPLICA_STANDBY_PORT`` set, stops both (by their data folders) and removes the folder, and exits
with the command's status.
"""

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from tests.servers import run_beside


BIN = Path(os.environ.get("DOT_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "dot_lts_replica"
# initdb and the servers refuse to run as root: they run as the server's own account then.
ACCOUNT = "postgres"


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_account(*command):
    prefix = ["runuser", "-u", ACCOUNT, "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *map(str, command)], check=True, stdout=subprocess.DEVNULL)


def _configure(data, port, folder, extra=()):
    lines = [
        f"port = {port}",
        "listen_addresses = '127.0.0.1'",
        f"unix_socket_directories = '{folder}'",
        # A throwaway pair: durability is not what is tested.
        "fsync = off",
        "full_page_writes = off",
        *extra,
    ]
    with open(data / "postgresql.conf", "a") as conf:
        conf.write("\n".join(lines) + "\n")


def _wait_for_database(port, delay_ms):
    """The standby applies the CREATE DATABASE ``delay_ms`` late: wait for it, so that Django can connect."""
    deadline = time.monotonic() + delay_ms / 1000 + 60
    query = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"
    while True:
        found = subprocess.run(
            [
                BIN / "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-Atc",
                query,
            ],
            capture_output=True,
            text=True,
        )
        if found.stdout.strip() == "1":
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the standby did not get the database: {found.stderr}")
        time.sleep(0.1)


@contextmanager
def replica_pair(delay_ms):
    """Yield ``(primary_port, standby_port)`` of a running pair; stop and remove it afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="dot-lts-replicas-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam(ACCOUNT)
        os.chown(folder, account.pw_uid, account.pw_gid)
    primary, standby = folder / "primary", folder / "standby"
    primary_port, standby_port = _free_port(), _free_port()
    started = []
    try:
        _as_account(
            BIN / "initdb", "-D", primary, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"
        )
        _configure(primary, primary_port, folder, ["wal_level = replica", "max_wal_senders = 4"])
        _as_account(BIN / "pg_ctl", "-D", primary, "-l", folder / "primary.log", "-w", "start")
        started.append(primary)
        _as_account(
            BIN / "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            primary_port,
            "-U",
            "postgres",
            "-D",
            standby,
            "-R",
        )
        _configure(
            standby, standby_port, folder, ["hot_standby = on", f"recovery_min_apply_delay = {delay_ms}"]
        )
        _as_account(BIN / "pg_ctl", "-D", standby, "-l", folder / "standby.log", "-w", "start")
        started.append(standby)
        _as_account(BIN / "createdb", "-h", "127.0.0.1", "-p", primary_port, "-U", "postgres", DATABASE)
        _wait_for_database(standby_port, delay_ms)
        yield primary_port, standby_port
    finally:
        for data in reversed(started):
            _as_account(BIN / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def main(argv):
    delay_ms = int(os.environ.get("DOT_TEST_REPLICA_DELAY_MS", "2000"))
    return run_beside(
        argv,
        replica_pair(delay_ms),
        lambda ports: {
            "DOT_TEST_REPLICA_PRIMARY_PORT": str(ports[0]),
            "DOT_TEST_REPLICA_STANDBY_PORT": str(ports[1]),
            "DOT_TEST_REPLICA_DELAY_MS": str(delay_ms),
        },
        "replica pair",
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
