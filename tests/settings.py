"""Settings for our test suite. ``DOT_TEST_DB`` picks the database: sqlite (default), postgres or mysql.

``DOT_TEST_DB_NAME`` names the database (pytest-django prefixes ``test_``), so that runs in parallel on
one server do not collide; the other connection parameters follow libpq/MySQL conventions below.
"""

import os


BACKEND = os.environ.get("DOT_TEST_DB", "sqlite")
DB_NAME = os.environ.get("DOT_TEST_DB_NAME", "dot_lts")


def _database(name):
    if BACKEND == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": f"{name}.sqlite3", "TEST": {"NAME": None}}
    if BACKEND == "postgres":
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": os.environ.get("DOT_TEST_PG_USER", "postgres"),
            "PASSWORD": os.environ.get("DOT_TEST_PG_PASSWORD", ""),
            "HOST": os.environ.get("DOT_TEST_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("DOT_TEST_PG_PORT", "5432"),
        }
    if BACKEND == "mysql":
        return {
            "ENGINE": "django.db.backends.mysql",
            "NAME": name,
            "USER": os.environ.get("DOT_TEST_MYSQL_USER", "root"),
            "PASSWORD": os.environ.get("DOT_TEST_MYSQL_PASSWORD", ""),
            "HOST": os.environ.get("DOT_TEST_MYSQL_HOST", "127.0.0.1"),
            "PORT": os.environ.get("DOT_TEST_MYSQL_PORT", "3306"),
            "OPTIONS": {"charset": "utf8mb4"},
            "TEST": {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"},
        }
    raise ValueError(f"DOT_TEST_DB must be sqlite, postgres or mysql, not {BACKEND!r}")


DATABASES = {"default": _database(DB_NAME), "other": _database(f"{DB_NAME}_other")}

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
ROOT_URLCONF = "tests.urls"
# live_server serves static files and needs a STATIC_URL to do so.
STATIC_URL = "/static/"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "oauth2_provider",
    "tests",
    "tests.backfill_app",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

OAUTH2_PROVIDER = {}
