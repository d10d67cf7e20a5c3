"""Jobs that visit every row of a table: primary-key windows, progress lines, the batching settings.

A job (the 0012 checksum backfill, ``cleartokens``) subclasses :class:`KeysetWalk` and says only what it
does with the rows of one window; the walk owns the loop. A window is ``lower < pk <= upper``, where
``upper`` is found by skipping ``batch_size`` rows inside the primary key index (``pk > lower ORDER BY pk
LIMIT 1 OFFSET batch_size - 1``): the cost of a window does not depend on how much of the table is left,
no server-side cursor is needed (they break behind PgBouncer in transaction mode), and at most one value
is fetched per window. The last window is open-ended (``upper`` is None).
"""

import contextlib
import logging
import sys
import time

from django.core.exceptions import ImproperlyConfigured

from ._replica_lag import replica_throttle
from .settings import oauth2_settings


#: Seconds between two progress lines of one walk.
PROGRESS_INTERVAL_SECONDS = 5.0


def is_positive_int(value):
    """Whether ``value`` is an int of at least 1 (``True`` is not accepted as 1)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _is_seconds(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


#: The longest lock timeout accepted for migration 0012: a day.
MAX_LOCK_TIMEOUT_SECONDS = 86400


def _is_lock_timeout(value):
    return value is None or (_is_seconds(value) and 0 < value <= MAX_LOCK_TIMEOUT_SECONDS)


# Every setting that sizes or paces a walk (and 0012's lock timeout): what it must be, as a test and in words.
BATCHING_SETTINGS = {
    "TOKEN_CHECKSUM_BATCH_SIZE": (is_positive_int, "a positive integer"),
    "TOKEN_CHECKSUM_BATCH_INTERVAL": (_is_seconds, "a number of seconds (0 or more)"),
    "TOKEN_CHECKSUM_MIGRATION_LOCK_TIMEOUT": (
        _is_lock_timeout,
        f"None or a number of seconds, more than 0 and at most {MAX_LOCK_TIMEOUT_SECONDS}",
    ),
    "CLEAR_EXPIRED_TOKENS_BATCH_SIZE": (is_positive_int, "a positive integer"),
    "CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL": (_is_seconds, "a number of seconds (0 or more)"),
}


def setting_problem(name):
    """Why the batching setting ``OAUTH2_PROVIDER[name]`` cannot be used, or None when it can."""
    is_valid, expected = BATCHING_SETTINGS[name]
    value = getattr(oauth2_settings, name)
    if is_valid(value):
        return None
    return f"OAUTH2_PROVIDER[{name!r}] must be {expected}, not {value!r}."


def batching_setting(name):
    """The value of the batching setting ``OAUTH2_PROVIDER[name]``; ImproperlyConfigured if unusable."""
    problem = setting_problem(name)
    if problem:
        raise ImproperlyConfigured(problem)
    return getattr(oauth2_settings, name)


class Progress:
    """Rows a walk went through, logged every ``PROGRESS_INTERVAL_SECONDS`` and summed up at the end.

    With a ``total`` a line gives the share done, the rate and the time left; without one (counting a
    large table costs a scan) it gives the rows and how far along the primary key the walk is.
    """

    def __init__(self, logger, label, total=None, verb="done", summary_level=logging.INFO):
        self.logger = logger
        self.label = label
        self.total = total
        self.verb = verb
        self.summary_level = summary_level
        self.done = 0
        self.started = self.last_report = time.monotonic()

    def advance(self, rows, upper):
        """Count ``rows`` more, the window ending at pk ``upper`` (None: the end of the table)."""
        self.done += rows
        self.logger.debug("%s: %s rows %s in a batch, %s so far", self.label, rows, self.verb, self.done)
        now = time.monotonic()
        if now - self.last_report < PROGRESS_INTERVAL_SECONDS:
            return
        self.last_report = now
        rate = self.done / max(now - self.started, 1e-9)
        if self.total is None:
            position = "end of table" if upper is None else f"pk {upper}"
            self.logger.info(
                "%s: %s rows %s up to %s, %.0f rows/s", self.label, self.done, self.verb, position, rate
            )
            return
        remaining = max(self.total - self.done, 0)
        eta = f"{remaining / rate:.0f}s" if rate else "unknown"
        self.logger.info(
            "%s: %s/%s rows (%.0f%%), %.0f rows/s, ETA %s",
            self.label,
            self.done,
            self.total,
            100.0 * self.done / self.total,
            rate,
            eta,
        )

    def finish(self):
        """Log the summary line; return the rows counted."""
        elapsed = time.monotonic() - self.started
        self.logger.log(
            self.summary_level,
            "%s: done, %s rows in %.1fs (%.0f rows/s)",
            self.label,
            self.done,
            elapsed,
            self.done / max(elapsed, 1e-9),
        )
        return self.done


class KeysetWalk:
    """Visits ``model``'s table on ``connection`` in windows of ``batch_size`` rows along the primary key.

    A subclass implements :meth:`process_window`; it may count the rows to visit (:meth:`count`, which
    gives the progress lines a total and an ETA), set things up on the connection (:meth:`prepare`) and
    pause between windows (``pause`` seconds, or its own :meth:`after_window`).
    """

    #: The logger of the progress lines (each job names its own, a documented name).
    logger = None
    #: What the progress lines say happened to the rows ("deleted").
    verb = "done"
    #: The level of the summary line.
    summary_level = logging.INFO
    #: Seconds to wait after each window that had rows.
    pause = 0
    #: Waits after each window while replicas lag (``_replica_lag``), set by :meth:`run`; None: no wait.
    throttle = None

    def __init__(self, model, connection, batch_size):
        self.model = model
        self.connection = connection
        self.batch_size = batch_size
        quote = connection.ops.quote_name
        self.table = quote(model._meta.db_table)
        self.pk = quote(model._meta.pk.column)

    @property
    def label(self):
        """How the progress lines name the walk."""
        return self.model._meta.label

    def run(self):
        """Process every window; return the number of rows processed."""
        self.throttle = replica_throttle(self.connection)
        self.prepare()
        total = self.count()
        if total == 0:
            self.logger.debug("%s: nothing to do", self.label)
            return 0
        progress = Progress(self.logger, self.label, total, self.verb, self.summary_level)
        lower = None
        while True:
            upper = self.window_end(lower)
            rows = self.process_window(lower, upper)
            if rows:  # the open-ended last window is empty when the rows were an exact multiple
                progress.advance(rows, upper)
                self.after_window(rows)
            if upper is None:
                if self.throttle is not None and self.throttle.waited:
                    self.logger.info(
                        "%s: waited %.1fs in all for replicas to catch up", self.label, self.throttle.waited
                    )
                return progress.finish()
            lower = upper

    def prepare(self):
        """Runs once before the first window, on the walk's connection."""

    def count(self):
        """How many rows the walk will process (0: nothing to do), or None when not counted."""
        return None

    def process_window(self, lower, upper):
        """Handle the rows with ``lower < pk <= upper`` (``None``: unbounded); return how many."""
        raise NotImplementedError

    def after_window(self, rows):
        """Runs after each window in which ``rows`` (at least one) were processed."""
        if self.pause:
            time.sleep(self.pause)
        if self.throttle is not None:
            self.throttle.wait()

    def window_end(self, lower):
        """The pk closing the window of ``batch_size`` rows after ``lower``, or None when fewer are left.

        The probe deliberately has no other condition than the primary key: with one on another column,
        PostgreSQL plans a sequential scan per window (measured 3.5x slower over a million rows).
        """
        conditions, params = self.pk_range(lower)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        limit = self.connection.ops.limit_offset_sql(self.batch_size - 1, self.batch_size)
        sql = f"SELECT {self.pk} FROM {self.table} {where} ORDER BY {self.pk} {limit}"
        _, rows = self._execute(sql, params)
        return rows[0][0] if rows else None

    def pk_range(self, lower, upper=None):
        """SQL conditions and params for ``lower < pk <= upper`` (either bound may be None)."""
        conditions, params = [], []
        if lower is not None:
            conditions.append(f"{self.pk} > %s")
            params.append(lower)
        if upper is not None:
            conditions.append(f"{self.pk} <= %s")
            params.append(upper)
        return conditions, params

    def _execute(self, sql, params=()):
        """Run ``sql``; return its rowcount and the rows it selected (none for a write)."""
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount, cursor.fetchall() if cursor.description else []


class _TerminalHandler(logging.StreamHandler):
    """Progress lines on stderr, indented like ``migrate``'s output; ``fresh_line`` starts on a new line."""

    def __init__(self, fresh_line):
        super().__init__(sys.stderr)
        self.setFormatter(logging.Formatter("  %(message)s"))
        self._needs_newline = fresh_line

    def emit(self, record):
        if self._needs_newline:
            self._needs_newline = False
            self.stream.write("\n")
        super().emit(record)


@contextlib.contextmanager
def progress_on_stderr(logger, fresh_line=False):
    """Show ``logger``'s INFO lines on stderr while no handler would receive them (Django's default logging).

    ``fresh_line``: the first line starts with a newline, for a caller that is in the middle of one
    (``migrate`` has written "Applying ..." without a newline when 0012 runs).
    """
    if logger.hasHandlers():
        yield
        return
    handler = _TerminalHandler(fresh_line)
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
