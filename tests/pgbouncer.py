"""A real PgBouncer in transaction pooling in front of the test PostgreSQL server, for the tests of ours
that must hold behind one (Debian's ``pgbouncer``, which toxfile.py installs for the PostgreSQL envs).

``bouncer`` starts one on a free port for the test that asks, with a pool of two server connections,
and a connection under the alias ``"bouncer"`` (of the test's thread) that reaches the test database
through it.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connections
from django.db.utils import load_backend


ALIAS = "bouncer"
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
# PgBouncer refuses to run as root: it runs as the server's own account where the tests run as root.
SERVICE_ACCOUNT = "postgres"


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answering(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _configuration(folder, port, server):
    (folder / "users.txt").write_text(f'"{server["USER"]}" "{server.get("PASSWORD") or ""}"\n')
    return (
        "[databases]\n"
        f"* = host={server['HOST']} port={server['PORT']}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 100\n"
        f"logfile = {folder / 'pgbouncer.log'}\n"
    )


# The settings of the running test's PgBouncer connection, for the threads it starts.
THIS_BOUNCER = {}


def connect_this_thread():
    """Give the calling thread its own connection under ``ALIAS`` (connections are per thread)."""
    connections[ALIAS] = load_backend(THIS_BOUNCER["ENGINE"]).DatabaseWrapper(dict(THIS_BOUNCER), alias=ALIAS)


class ThroughBouncer:
    """A router that sends every read and write through the PgBouncer of the running test."""

    def db_for_read(self, model, **hints):
        return ALIAS

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return True


@pytest.fixture
def bouncer(transactional_db):
    """The alias ``"bouncer"``: the test database through a PgBouncer of its own in transaction pooling."""
    if connections["default"].vendor != "postgresql":
        pytest.skip("PgBouncer pools PostgreSQL connections")
    if not os.access(PGBOUNCER, os.X_OK):
        pytest.fail(f"PgBouncer is not installed ({PGBOUNCER}): apt-get install pgbouncer (toxfile.py does)")
    server = connections["default"].settings_dict
    # Not under pytest's tmp_path: its parent is private to root, and PgBouncer runs as another account.
    folder = Path(tempfile.mkdtemp(prefix="dot-lts-pgbouncer-"))
    port = _free_port()
    (folder / "pgbouncer.ini").write_text(_configuration(folder, port, server))
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        account = pwd.getpwnam(SERVICE_ACCOUNT)
        for path in (folder, *folder.iterdir()):
            os.chown(path, account.pw_uid, account.pw_gid)
        command[1:1] = ["-u", SERVICE_ACCOUNT]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not _answering(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"PgBouncer did not start: {process.stderr.read().decode()}")
        time.sleep(0.05)
    # A connection of this thread only, not in DATABASES: Django's test case then lets the test use it.
    settings_dict = {**server, "PORT": str(port), "DISABLE_SERVER_SIDE_CURSORS": True}
    THIS_BOUNCER.update(settings_dict)
    connect_this_thread()
    try:
        yield ALIAS
    finally:
        connections[ALIAS].close()
        del connections[ALIAS]
        THIS_BOUNCER.clear()
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
