"""Schema parity with upstream django-oauth-toolkit 3.0.1 (``tox -e schema-parity``).

Upstream 3.0.1 is installed in a throwaway virtualenv next to tox's own environments. For each database
backend, upstream's migrations and ours are applied one at a time to two fresh databases, the schema of the
``oauth2_provider_*`` tables is read back from the database after every step, and the two readings must be
equal. Each side runs in a child process of its own interpreter (see ``child/``), so the two
``oauth2_provider`` packages never meet in one process.
"""
