"""A MariaDB primary of our own with binary logging, as every server with replicas has it, and a replica
of it, for the tests of what a database user without SUPER can and cannot do there and of the pace set
by replica lag.

The machine's server has no binary log, so ``mariadb-install-db`` makes two servers on free ports in a
temporary folder: the primary (``log_bin`` on, ``log_bin_trust_function_creators = 0``) and a read-only
replica applying its binary log ``DOT_TEST_BINLOG_REPLICA_DELAY`` seconds late (``MASTER_DELAY``, default
2: a replica always behind). Accounts on 127.0.0.1: ``app``, which has every privilege on the database
``dot_lts_binlog`` and nothing global (no SUPER); ``admin``, which has all; ``watcher``, which may read the
database and the replica's status (``REPLICA MONITOR``). Run as::

    python -m tests.mariadb_binlog -- python -m pytest tests/binlog_mariadb.py --ds=tests.settings_binlog

It starts both, runs the command with ``DOT_TEST_BINLOG_PORT``, ``DOT_TEST_BINLOG_REPLICA_PORT`` and
``DOT_TEST_BINLOG_REPLICA_DELAY`` set, stops both and removes the folder, and exits with the command's
status.
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


DATABASE = "dot_lts_binlog"
ACCOUNT = "mysql"
# Run on the primary once the replica follows it: the replica gets all of it through the binary log.
SETUP = f"""
CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'app'@'127.0.0.1';
GRANT ALL PRIVILEGES ON {DATABASE}.* TO 'app'@'127.0.0.1';
CREATE USER 'admin'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'admin'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER 'watcher'@'127.0.0.1';
GRANT SELECT ON {DATABASE}.* TO 'watcher'@'127.0.0.1';
GRANT REPLICA MONITOR ON *.* TO 'watcher'@'127.0.0.1';
"""
REPLICATION_ACCOUNT = """
CREATE USER 'repl'@'127.0.0.1';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
"""


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Server:
    """A ``mariadbd`` with data in ``folder``/``name``, on a free port, ``options`` on its command line."""

    def __init__(self, folder, name, options):
        self.folder, self.name, self.port = folder, name, _free_port()
        self.socket = folder / f"{name}.sock"
        self.error_log = folder / f"{name}.err"
        data = folder / name
        data.mkdir()
        account = pwd.getpwnam(ACCOUNT) if os.geteuid() == 0 else None
        if account:
            os.chown(data, account.pw_uid, account.pw_gid)
        user = ["--user", ACCOUNT] if account else []
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={data}", *user, "--skip-test-db"],
            check=True,
            capture_output=True,
        )
        self.process = subprocess.Popen(
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={data}",
                f"--socket={self.socket}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--log-error={self.error_log}",
                *options,
                *user,
            ]
        )

    def wait_until_up(self):
        deadline = time.monotonic() + 60
        while subprocess.run(
            ["mariadb-admin", f"--socket={self.socket}", "-uroot", "ping"], capture_output=True
        ).returncode:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mariadbd {self.name} did not start: {self.error_log.read_text()}")
            time.sleep(0.1)

    def sql(self, statements):
        return subprocess.run(
            ["mariadb", f"--socket={self.socket}", "-uroot", "-N", "-e", statements],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    def stop(self):
        self.process.terminate()
        self.process.wait(60)


def _wait_for_setup(replica, delay):
    """The replica applies the primary's setup ``delay`` seconds late: wait for its last account."""
    deadline = time.monotonic() + delay + 60
    while replica.sql("SELECT COUNT(*) FROM mysql.user WHERE user = 'watcher'") != "1":
        if time.monotonic() > deadline:
            status = replica.sql("SHOW REPLICA STATUS\\G")
            raise RuntimeError(f"the replica did not apply the setup: {status}")
        time.sleep(0.2)


@contextmanager
def binlog_servers(delay):
    """Yield the ports of a binary-logged MariaDB primary and of a replica applying its log ``delay`` s late.

    Both are stopped and their folder removed afterwards.
    """
    folder = Path(tempfile.mkdtemp(prefix="dot-lts-binlog-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam(ACCOUNT)
        os.chown(folder, account.pw_uid, account.pw_gid)
    servers = []
    try:
        primary = _Server(
            folder,
            "primary",
            [f"--log-bin={folder / 'binlog'}", "--server-id=1", "--log-bin-trust-function-creators=0"],
        )
        servers.append(primary)
        replica = _Server(folder, "replica", ["--server-id=2", "--read-only"])
        servers.append(replica)
        primary.wait_until_up()
        replica.wait_until_up()
        primary.sql(REPLICATION_ACCOUNT)
        replica.sql(
            f"CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = {primary.port}, "
            f"MASTER_USER = 'repl', MASTER_USE_GTID = slave_pos, MASTER_DELAY = {delay}; START REPLICA"
        )
        primary.sql(SETUP)
        _wait_for_setup(replica, delay)
        yield primary.port, replica.port
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main(argv):
    delay = int(os.environ.get("DOT_TEST_BINLOG_REPLICA_DELAY", "2"))
    return run_beside(
        argv,
        binlog_servers(delay),
        lambda ports: {
            "DOT_TEST_BINLOG_PORT": str(ports[0]),
            "DOT_TEST_BINLOG_REPLICA_PORT": str(ports[1]),
            "DOT_TEST_BINLOG_REPLICA_DELAY": str(delay),
        },
        "binary-logged MariaDB and its replica",
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
