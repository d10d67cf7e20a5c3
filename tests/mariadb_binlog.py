"""A MariaDB server of our own with binary logging, as every server with replicas has it, for the tests
of what a database user without SUPER can and cannot do there.

The machine's server has no binary log, so ``mariadb-install-db`` makes one on a free port in a temporary
folder (``log_bin`` on, ``log_bin_trust_function_creators = 0``), with two accounts on 127.0.0.1: ``app``,
which has every privilege on the database ``dot_lts_binlog`` and nothing global (no SUPER), and ``admin``,
which has all. Run as::

    python -m tests.mariadb_binlog -- python -m pytest tests/binlog_mariadb.py --ds=tests.settings_binlog

It starts the server, runs the command with ``DOT_TEST_BINLOG_PORT`` set, stops the server and removes the
folder, and exits with the command's status.
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


DATABASE = "dot_lts_binlog"
ACCOUNT = "mysql"
SETUP = f"""
CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'app'@'127.0.0.1';
GRANT ALL PRIVILEGES ON {DATABASE}.* TO 'app'@'127.0.0.1';
CREATE USER 'admin'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'admin'@'127.0.0.1' WITH GRANT OPTION;
"""


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def binlog_server():
    """Yield the port of a running binary-logged MariaDB; stop and remove it afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="dot-lts-binlog-"))
    account = pwd.getpwnam(ACCOUNT) if os.geteuid() == 0 else None
    if account:
        os.chown(folder, account.pw_uid, account.pw_gid)
    data, sock, port = folder / "data", folder / "mariadb.sock", _free_port()
    data.mkdir()
    if account:
        os.chown(data, account.pw_uid, account.pw_gid)
    user = ["--user", ACCOUNT] if account else []
    subprocess.run(
        ["mariadb-install-db", "--no-defaults", f"--datadir={data}", *user, "--skip-test-db"],
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [
            "mariadbd",
            "--no-defaults",
            f"--datadir={data}",
            f"--socket={sock}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--log-bin={folder / 'binlog'}",
            "--server-id=1",
            "--log-bin-trust-function-creators=0",
            f"--log-error={folder / 'error.log'}",
            *user,
        ]
    )
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(
            ["mariadb-admin", f"--socket={sock}", "-uroot", "ping"], capture_output=True
        ).returncode:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mariadbd did not start: {(folder / 'error.log').read_text()}")
            time.sleep(0.1)
        subprocess.run(["mariadb", f"--socket={sock}", "-uroot"], input=SETUP, text=True, check=True)
        yield port
    finally:
        server.terminate()
        server.wait(60)
        shutil.rmtree(folder, ignore_errors=True)


def main(argv):
    command = argv[argv.index("--") + 1 :] if "--" in argv else argv
    with binlog_server() as port:
        status = subprocess.run(command, env={**os.environ, "DOT_TEST_BINLOG_PORT": str(port)}).returncode
    print(f"binary-logged MariaDB: command exit {status}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
