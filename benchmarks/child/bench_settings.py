"""Django settings of the benchmark's child processes, driven by ``BENCH_*`` environment variables.

This directory is the only one the benchmark puts on a child's sys.path, so the same file serves our
package and every upstream release in its venv. It must stay importable by all of them: plain Django.
"""

import os


ENGINES = {
    "sqlite": "django.db.backends.sqlite3",
    "postgres": "django.db.backends.postgresql",
    "mysql": "django.db.backends.mysql",
}

VENDOR = os.environ["BENCH_DB_VENDOR"]

DATABASES = {
    "default": {
        "ENGINE": ENGINES[VENDOR],
        "NAME": os.environ["BENCH_DB_NAME"],
        "HOST": os.environ.get("BENCH_DB_HOST", ""),
        "PORT": os.environ.get("BENCH_DB_PORT", ""),
        "USER": os.environ.get("BENCH_DB_USER", ""),
        "PASSWORD": os.environ.get("BENCH_DB_PASSWORD", ""),
        "OPTIONS": {"charset": "utf8mb4"} if VENDOR == "mysql" else {},
    }
}

INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "oauth2_provider"]
SECRET_KEY = "benchmark-only-not-secret"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# Only our package reads this key; the one-UPDATE contender sets it above the row count.
OAUTH2_PROVIDER = {}
if "BENCH_BATCH_SIZE" in os.environ:
    OAUTH2_PROVIDER["TOKEN_CHECKSUM_BATCH_SIZE"] = int(os.environ["BENCH_BATCH_SIZE"])

# The cleartokens scenario: DOT 3.0.1 and ours both read these two keys.
if "BENCH_REFRESH_TOKEN_EXPIRE_SECONDS" in os.environ:
    OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"] = int(os.environ["BENCH_REFRESH_TOKEN_EXPIRE_SECONDS"])
if "BENCH_CLEAR_BATCH_SIZE" in os.environ:
    OAUTH2_PROVIDER["CLEAR_EXPIRED_TOKENS_BATCH_SIZE"] = int(os.environ["BENCH_CLEAR_BATCH_SIZE"])

# The lag scenario: the replica of the primary above, and, when paced, the pace it sets (ours only).
if "BENCH_REPLICA_PORT" in os.environ:
    DATABASES["replica"] = {**DATABASES["default"], "PORT": os.environ["BENCH_REPLICA_PORT"]}
if "BENCH_REPLICA_LAG_MAX_SECONDS" in os.environ:
    OAUTH2_PROVIDER["REPLICA_LAG_DATABASES"] = ["replica"]
    OAUTH2_PROVIDER["REPLICA_LAG_MAX_SECONDS"] = float(os.environ["BENCH_REPLICA_LAG_MAX_SECONDS"])

# Progress lines of our backfill, and cleartokens' counts (ours: with progress), end up in the log file.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {
        name: {"handlers": ["stderr"], "level": "INFO"}
        for name in (
            "oauth2_provider.migrations",
            "oauth2_provider.models",
            "oauth2_provider._cleartokens",
            "oauth2_provider.replica_lag",
        )
    },
}
