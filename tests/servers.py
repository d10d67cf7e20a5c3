"""Running a command while servers of the test run's own are up (``tests/replica_pair.py``,
``tests/mariadb_binlog.py``): ``python -m tests.<module> -- <command>``."""

import os
import signal
import subprocess
import sys
import time


def run_beside(argv, servers, environment_of, label):
    """Run the command after ``--`` in ``argv`` while the context manager ``servers`` is entered.

    ``environment_of`` turns what ``servers`` yields into the environment variables that tell the command
    where the servers are. The servers are stopped afterwards, also when this process is stopped by
    SIGTERM (a tox run interrupted). Returns the command's exit status.
    """
    command = argv[argv.index("--") + 1 :] if "--" in argv else argv
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with servers as running:
        started = time.monotonic()
        status = subprocess.run(command, env={**os.environ, **environment_of(running)}).returncode
    print(f"{label}: command ran {time.monotonic() - started:.0f} s, exit {status}", flush=True)
    return status
