"""Settings of ``python -m benchmarks endpoints``' child: ``bench_settings`` plus what the endpoints need.

The consent page needs templates, a session and a signed-in user (sessions in signed cookies, so the
snapshot needs no session table); UserInfo needs OpenID Connect, hence a fresh RSA key per child.
``bench_hashers.FastPBKDF2Hasher`` is the cheap hasher of ``--secret fast`` and of the owner's password.
Like bench_settings.py it must work with our package and with upstream releases.
"""

from bench_settings import *  # noqa: F403
from bench_settings import OAUTH2_PROVIDER
from jwcrypto import jwk


# The cheap hasher first, so that Django does not upgrade the owner's password to PBKDF2 on the first
# password grant; the applications' secrets name their hasher (see SECRET_HASHERS in bench_endpoints.py).
PASSWORD_HASHERS = [
    "bench_hashers.FastPBKDF2Hasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
ALLOWED_HOSTS = ["testserver"]

OAUTH2_PROVIDER.update(
    {
        "OIDC_ENABLED": True,
        "OIDC_RSA_PRIVATE_KEY": jwk.JWK.generate(kty="RSA", size=2048)
        .export_to_pem(private_key=True, password=None)
        .decode(),
        "SCOPES": {"read": "Reading scope", "write": "Writing scope", "openid": "OpenID Connect"},
    }
)
