"""The cheap hasher of ``python -m benchmarks endpoints --secret fast`` (see bench_endpoints_settings.py)."""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class FastPBKDF2Hasher(PBKDF2PasswordHasher):
    """One PBKDF2-SHA256 iteration: a salted HMAC, enough for a generated high-entropy secret."""

    algorithm = "bench_fast_pbkdf2"
    iterations = 1
