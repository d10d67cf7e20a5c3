"""Migration 0012 while the site serves: ``manage.py tokenchecksum prepare|status|finish``, 0012's hooks.

The online path is expand, migrate, contract (docs/upgrading.rst, "Rolling deploys without downtime"):

* ``prepare`` runs with the database at 0011 while pre-0012 code serves. It adds the nullable column, a
  trigger that gives every row old code writes its checksum, fills the existing rows in committed pages,
  and builds, without blocking writes, the indexes 0012 would build under a lock: the unique index on
  ``token_checksum`` under the name Django gives it, a plain index on ``token`` that old code's lookups
  keep using once 0012 drops the unique one, and on PostgreSQL a validated ``CHECK (... IS NOT NULL)``
  so that ``SET NOT NULL`` needs no scan. Each DDL statement waits at most ``DDL_LOCK_TIMEOUT_SECONDS``
  for its lock and is retried, so a long transaction elsewhere delays the step instead of queueing the
  site behind it. Every step looks at the database first, so a killed run is resumed by running it again.
* ``migrate`` then finds each operation of 0012 done or reduced to catalog work (see ``FilledAlterField``
  and ``_resumable``).
* ``finish``, once no pre-0012 code runs any more, drops what ``prepare`` added beyond upstream's schema.

The plain path (``migrate`` alone) uses the same trigger for the duration of 0012 on MySQL/MariaDB, where
DDL is not transactional and old code keeps inserting rows between the backfill and ``NOT NULL``. With
``OAUTH2_PROVIDER["TOKEN_CHECKSUM_MIGRATION_LOCK_TIMEOUT"]`` set, 0012 waits at most that long for each
lock on the table, retries a few times and then stops with ``LockNotGranted`` (see ``applying_0012``).

Every object created here is named with ``PREFIX``, so ``status`` and ``finish`` find them. The package
has the shape of Django's ``db/backends``: ``base`` owns the order of the steps (``BaseOnline``), one module
per database vendor (``postgresql``, ``mysql``, ``sqlite``) knows only its SQL, and ``migration`` holds
0012's hooks and picks the vendor's class.
"""

from .base import (
    BEFORE_UPSTREAM,
    METHODS,
    BaseOnline,
    LockNotGranted,
    Refused,
)
from .migration import (
    FilledAlterField,
    applying_0012,
    fill_from_migration,
    online_for,
    unfill_from_migration,
)
from .mysql import MySQLOnline
from .postgresql import PostgreSQLOnline
from .sqlite import SQLiteOnline


__all__ = [
    "BEFORE_UPSTREAM",
    "METHODS",
    "BaseOnline",
    "FilledAlterField",
    "LockNotGranted",
    "MySQLOnline",
    "PostgreSQLOnline",
    "Refused",
    "SQLiteOnline",
    "applying_0012",
    "fill_from_migration",
    "online_for",
    "unfill_from_migration",
]
