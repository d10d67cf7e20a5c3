"""The snapshots the scenarios start from, one builder per kind; each contender works on a copy.

A child process migrates a fresh database, then the parent fills it with bulk SQL (``databases.py``).
"""

import sys
import time

from .children import migrate
from .common import abort


def _migrated(database, python, last_target, log_dir):
    """Recreate the snapshot database and migrate it, up to ``last_target``, with ``python``'s package."""
    database.recreate_base()
    child_vars = database.child_vars(database.base_name)
    for step, target in enumerate((["contenttypes"], ["auth"], last_target)):
        run = migrate(python, target, child_vars, log_dir / f"snapshot-{step}-{target[0]}.log")
        if run.returncode != 0:
            abort(f"migrate {' '.join(target)} for the snapshot exited with {run.returncode}", run.log_path)


def tokens_before_0012(database, python, rows, log_dir):
    """At migration 0011 (by ``python``'s package) with ``rows`` tokens; return the seconds filling took."""
    _migrated(database, python, ["oauth2_provider", "0011"], log_dir)
    started = time.perf_counter()
    database.fill(rows)
    return time.perf_counter() - started


def mostly_expired_tokens(database, rows, log_dir):
    """At the latest migration (ours; upstream 3.0.1 has the same schema) with ``rows`` tokens, 98 %
    of them expired long ago, every even id with a refresh token (see ``Database.fill_expired``)."""
    _migrated(database, sys.executable, ["oauth2_provider"], log_dir)
    database.fill_expired(rows)
