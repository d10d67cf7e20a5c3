"""SQLite: no online path, only what ``status`` and the commands say about it."""

from .base import (
    BaseOnline,
)


class SQLiteOnline(BaseOnline):
    """One writer at a time: a plain ``migrate`` is the way, and it blocks nobody for long."""

    EXPLANATION = (
        "SQLite has one writer at a time and a migration holds the write lock throughout, so there is no "
        "online path to prepare: stop writing, run 'manage.py migrate', start the new code."
    )

    def prepare(self, say, method=None):
        say(self.EXPLANATION)

    def finish(self, say):
        say("nothing to finish on SQLite: 'manage.py migrate' leaves upstream's schema.")

    def status(self):
        return [*super().status()[:3], self.EXPLANATION]

    def has_trigger(self, name):
        return False

    def index_state(self, name):
        return None
