"""Settings of the demo provider: a local playground on SQLite, never a template for production.

Two environment variables steer it: ``DEMO_PORT`` (8000) is where ``rundemo`` serves and what the demo
applications' redirect URIs point at; ``DEMO_DATA_DIR`` (``demo/var/``) holds the database and the OpenID
Connect signing key, both created on first run and git-ignored.
"""

import os
from pathlib import Path

from jwcrypto import jwk


DEMO_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DEMO_DATA_DIR", DEMO_DIR / "var"))
DEMO_PORT = int(os.environ.get("DEMO_PORT", "8000"))


def oidc_private_key(path):
    """The PEM of the RSA key that signs ID tokens, generated on first use so that none is ever committed."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = jwk.JWK.generate(kty="RSA", size=2048).export_to_pem(private_key=True, password=None)
        # Created readable by its owner only, before the key is written into it.
        path.touch(mode=0o600)
        path.write_bytes(pem)
    return path.read_text()


# Demo only: a fixed key is fine for a server that listens on 127.0.0.1 and holds no real data.
SECRET_KEY = "demo-only-insecure-secret-key"
DEBUG = True
# The provider's pages take their stylesheet from static files (runserver serves them when DEBUG).
STATIC_URL = "/static/"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "oauth2_provider",
    "showcase",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo_project.urls"

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

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

OAUTH2_PROVIDER = {
    "SCOPES": {
        "openid": "Sign you in with OpenID Connect",
        "read": "Read your demo profile",
        "write": "Change your demo profile",
    },
    # What a token request without a scope parameter gets (client credentials, mostly).
    "DEFAULT_SCOPES": ["read"],
    # The default already; spelled out because the demo's authorization-code client relies on it.
    "PKCE_REQUIRED": True,
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": oidc_private_key(DATA_DIR / "oidc.key"),
}

# The API answers JSON only, so DRF's browsable API (and the static files it needs) stays out.
REST_FRAMEWORK = {"DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}
