"""The pace of the jobs that write a table in committed pages, set by how far the site's replicas lag.

A replica applies each committed page after the primary; when pages come faster than it applies them, it
falls behind, and every read the site sends there is that much older. ``OAUTH2_PROVIDER
["REPLICA_LAG_DATABASES"]`` names replicas (``DATABASES`` aliases); after each committed page of
``tokenchecksum prepare``, of 0012's backfill where its pages commit (MySQL/MariaDB) and of
``cleartokens``, the job asks each of them how far behind it is, and waits while one is more than
``REPLICA_LAG_MAX_SECONDS`` behind or cannot say (replication stopped), the way gh-ost and GitLab's
batched background migrations pace themselves.

A page written inside a transaction reaches a replica only at the commit: waiting then would only keep
the transaction's locks longer, so a job that runs inside one (0012 on PostgreSQL) does not wait.

:class:`ReplicaThrottle` owns the waiting; one small class per database vendor only knows how its
replicas tell their lag.
"""

import logging
import time

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections

from .settings import oauth2_settings


logger = logging.getLogger("oauth2_provider.replica_lag")

#: Seconds between two questions to a lagging replica.
POLL_SECONDS = 0.2
#: Seconds between two log lines of one wait.
REPORT_SECONDS = 5.0


def _is_seconds(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def settings_problems(databases):
    """What is wrong with the two replica-lag settings, given the project's ``DATABASES`` (a list)."""
    aliases = oauth2_settings.REPLICA_LAG_DATABASES
    max_seconds = oauth2_settings.REPLICA_LAG_MAX_SECONDS
    problems = []
    if isinstance(aliases, str) or not isinstance(aliases, (list, tuple)):
        problems.append(
            f"OAUTH2_PROVIDER['REPLICA_LAG_DATABASES'] must be a list of DATABASES aliases, not {aliases!r}."
        )
    else:
        unknown = [alias for alias in aliases if not isinstance(alias, str) or alias not in databases]
        if unknown:
            problems.append(
                "OAUTH2_PROVIDER['REPLICA_LAG_DATABASES'] names databases that are not in DATABASES: "
                + ", ".join(map(repr, unknown))
                + "."
            )
    if not _is_seconds(max_seconds):
        problems.append(
            "OAUTH2_PROVIDER['REPLICA_LAG_MAX_SECONDS'] must be a number of seconds above 0, "
            f"not {max_seconds!r}."
        )
    return problems


class ReplicaLag:
    """How far the replica behind database alias ``alias`` is behind its primary."""

    #: Why a database that says it is no replica is not one, in words.
    not_a_replica = ""
    #: What to grant when asking for the lag fails.
    privilege_hint = ""

    def __init__(self, alias):
        self.alias = alias
        self.connection = connections[alias]

    def _rows(self, sql):
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
            columns = [column[0] for column in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def problem(self):
        """Why this alias cannot tell a lag (not a replica, a missing privilege), or None."""
        try:
            if not self.is_replica():
                return f"database {self.alias!r} is not a replica: {self.not_a_replica}"
        except DatabaseError as error:
            return f"database {self.alias!r} cannot tell its replication lag ({error}){self.privilege_hint}"
        return None

    def is_replica(self):
        raise NotImplementedError

    def seconds(self):
        """Seconds this replica is behind, or None while it cannot tell (replication not running)."""
        raise NotImplementedError


class PostgreSQLReplicaLag(ReplicaLag):
    """A hot standby: the age of the last transaction it applied, 0 once it has applied all it received."""

    not_a_replica = "pg_is_in_recovery() is false on it (a primary, or a promoted standby)."

    def is_replica(self):
        return self._rows("SELECT pg_is_in_recovery() AS standby")[0]["standby"]

    def seconds(self):
        (row,) = self._rows(
            "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
            "ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()) END AS lag"
        )
        return None if row["lag"] is None else max(float(row["lag"]), 0.0)


class MySQLReplicaLag(ReplicaLag):
    """A MariaDB/MySQL replica: ``Seconds_Behind_Master`` (``_Source`` on MySQL 8.0.22+), whole seconds."""

    not_a_replica = "SHOW REPLICA STATUS returns nothing there."
    privilege_hint = (
        ": its user needs the REPLICA MONITOR privilege on MariaDB (GRANT REPLICA MONITOR ON *.* TO ...), "
        "REPLICATION CLIENT on MySQL"
    )

    def _status(self):
        modern = self.connection.mysql_is_mariadb or self.connection.mysql_version >= (8, 0, 22)
        return self._rows("SHOW REPLICA STATUS" if modern else "SHOW SLAVE STATUS")

    def is_replica(self):
        return bool(self._status())

    def seconds(self):
        behind = [
            row.get("Seconds_Behind_Master", row.get("Seconds_Behind_Source")) for row in self._status()
        ]
        if not behind or None in behind:
            return None
        return float(max(behind))


LAG_BY_VENDOR = {"postgresql": PostgreSQLReplicaLag, "mysql": MySQLReplicaLag}


class ReplicaThrottle:
    """Waits, after a committed page, until no replica of ``aliases`` is more than ``max_seconds`` behind."""

    def __init__(self, aliases, max_seconds):
        self.max_seconds = max_seconds
        self.replicas = []
        for alias in aliases:
            lag_class = LAG_BY_VENDOR.get(connections[alias].vendor)
            if lag_class is None:
                raise ImproperlyConfigured(
                    f"OAUTH2_PROVIDER['REPLICA_LAG_DATABASES']: cannot read the replication lag of "
                    f"{alias!r}, a {connections[alias].vendor} database (PostgreSQL and MariaDB/MySQL only)."
                )
            self.replicas.append(lag_class(alias))
        self.waited = 0.0

    def check(self):
        """Raise ImproperlyConfigured unless every replica can tell its lag: before a job's first change."""
        problems = [problem for problem in map(ReplicaLag.problem, self.replicas) if problem]
        if problems:
            raise ImproperlyConfigured(
                "OAUTH2_PROVIDER['REPLICA_LAG_DATABASES']: " + " ".join(problems) + " Nothing was changed."
            )

    def behind(self):
        """The replicas that are too far behind now, with their lag (None: cannot tell)."""
        lags = ((replica.alias, replica.seconds()) for replica in self.replicas)
        return {alias: lag for alias, lag in lags if lag is None or lag > self.max_seconds}

    def wait(self):
        """Return once every replica is at most ``max_seconds`` behind; the seconds waited."""
        started = last_report = time.monotonic()
        while behind := self.behind():
            now = time.monotonic()
            if now - last_report >= REPORT_SECONDS:
                last_report = now
                logger.info(
                    "waiting %.0f s so far for replicas to catch up (max %s s behind): %s",
                    now - started,
                    self.max_seconds,
                    ", ".join(
                        f"{alias} {'replication not running' if lag is None else f'{lag:.1f} s behind'}"
                        for alias, lag in behind.items()
                    ),
                )
            time.sleep(POLL_SECONDS)
        waited = time.monotonic() - started
        self.waited += waited
        return waited


def replica_throttle(connection):
    """The throttle for a job writing committed pages on ``connection``, checked; None when there is none.

    None when ``REPLICA_LAG_DATABASES`` is empty, and inside a transaction: pages reach replicas at its
    commit only.
    """
    problems = settings_problems(list(connections))
    if problems:
        raise ImproperlyConfigured(" ".join(problems))
    aliases = oauth2_settings.REPLICA_LAG_DATABASES
    if not aliases or connection.in_atomic_block:
        return None
    throttle = ReplicaThrottle(aliases, oauth2_settings.REPLICA_LAG_MAX_SECONDS)
    throttle.check()
    return throttle
