from importlib import import_module, metadata

from django.apps import apps
from django.contrib.auth.hashers import get_hasher, get_hashers_by_algorithm
from django.core import checks
from django.db import DatabaseError, router

from . import __version__
from ._batching import setting_problem
from .settings import oauth2_settings


UPSTREAM_DISTRIBUTION = "django-oauth-toolkit"


# Tagged "models", not "database": it asks the routers and never opens a connection, and Django 6.1 leaves
# database-tagged checks out of a plain `manage.py check` (they run only with --database).
@checks.register(checks.Tags.models)
def validate_token_configuration(app_configs, **kwargs):
    """The token models must share one database: revoking and rotating writes to several at once."""
    token_models = (
        oauth2_settings.ACCESS_TOKEN_MODEL,
        oauth2_settings.ID_TOKEN_MODEL,
        oauth2_settings.REFRESH_TOKEN_MODEL,
    )
    databases = {router.db_for_write(apps.get_model(label)) for label in token_models}
    if len(databases) > 1:
        return [checks.Error("The token models are expected to be stored in the same database.")]
    return []


def _upstream_version():
    try:
        return metadata.version(UPSTREAM_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


@checks.register(checks.Tags.compatibility)
def check_single_distribution(app_configs, **kwargs):
    """Warn when django-oauth-toolkit is installed beside us: both own the oauth2_provider files."""
    upstream = _upstream_version()
    if upstream is None:
        return []
    reinstall = (
        f"pip uninstall -y {UPSTREAM_DISTRIBUTION} django-oauth-toolkit-lts && "
        f"pip install django-oauth-toolkit-lts=={__version__}"
    )
    return [
        checks.Warning(
            f"The {UPSTREAM_DISTRIBUTION} distribution ({upstream}) is installed together with "
            "django-oauth-toolkit-lts. Both install the oauth2_provider package, so the files on disk "
            "may come from either of them.",
            hint=f"Keep only django-oauth-toolkit-lts: {reinstall}",
            id="oauth2_provider.W001",
        )
    ]


def _batching_errors(ids_by_setting):
    """An Error, with its id, for each of the batching settings named that cannot be used."""
    problems = ((setting_problem(name), error_id) for name, error_id in ids_by_setting.items())
    return [checks.Error(problem, id=error_id) for problem, error_id in problems if problem]


@checks.register()
def check_clear_expired_batching(app_configs, **kwargs):
    """``cleartokens`` needs a positive batch size and a pause that is a number of seconds."""
    return _batching_errors(
        {
            "CLEAR_EXPIRED_TOKENS_BATCH_SIZE": "oauth2_provider.E002",
            "CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL": "oauth2_provider.E003",
        }
    )


@checks.register()
def check_token_checksum_batch_size(app_configs, **kwargs):
    """Refuse a bad batch size before ``migrate`` starts 0012, not in the middle of it."""
    return _batching_errors({"TOKEN_CHECKSUM_BATCH_SIZE": "oauth2_provider.E001"})


@checks.register()
def check_token_checksum_batch_interval(app_configs, **kwargs):
    """``tokenchecksum prepare`` pauses between pages: refuse a bad pause before it starts."""
    return _batching_errors({"TOKEN_CHECKSUM_BATCH_INTERVAL": "oauth2_provider.E004"})


@checks.register()
def check_access_token_lifetime(app_configs, **kwargs):
    """``ACCESS_TOKEN_EXPIRE_SECONDS`` must be a positive number of seconds (upstream #483).

    With 0 every token is stored already expired while oauthlib, which reads 0 as "not given", announces
    ``expires_in: 3600``; a negative value announces a negative lifetime. Either way clients get tokens
    that the resource server refuses at once.
    """
    lifetime = oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS
    if isinstance(lifetime, (int, float)) and not isinstance(lifetime, bool) and lifetime > 0:
        return []
    return [
        checks.Error(
            f"OAUTH2_PROVIDER['ACCESS_TOKEN_EXPIRE_SECONDS'] must be a positive number of seconds, "
            f"not {lifetime!r}.",
            id="oauth2_provider.E007",
        )
    ]


@checks.register()
def check_reuse_protection_rotates(app_configs, **kwargs):
    """``REFRESH_TOKEN_REUSE_PROTECTION`` recognises a replay by a refresh token that rotation replaced.

    Without rotation no refresh token is ever replaced, so the protection can never fire (upstream #1816).
    """
    if not oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION or oauth2_settings.ROTATE_REFRESH_TOKEN:
        return []
    return [
        checks.Warning(
            "OAUTH2_PROVIDER['REFRESH_TOKEN_REUSE_PROTECTION'] is on but ROTATE_REFRESH_TOKEN is off: no "
            "refresh token is ever replaced, so a replay cannot be told from a legitimate use.",
            hint="Turn ROTATE_REFRESH_TOKEN on, or REFRESH_TOKEN_REUSE_PROTECTION off.",
            id="oauth2_provider.W005",
        )
    ]


# How many client ids the HS256 warning names; the count covers the rest.
_LISTED_APPLICATIONS = 10


@checks.register(checks.Tags.database)
def check_hs256_hashed_secrets(app_configs, databases=None, **kwargs):
    """Warn about HS256 applications whose secret is stored hashed: the provider has no key for them.

    It only runs where the database may be queried (``migrate``, ``check --database``), like Django's own
    database checks.
    """
    if not databases:
        return []
    from .models import _is_hashed_secret, get_application_model

    application_model = get_application_model()
    hashed = []
    for database in databases:
        try:
            candidates = application_model.objects.using(database).filter(
                algorithm=application_model.HS256_ALGORITHM
            )
            hashed += [
                client_id
                for client_id, secret in candidates.values_list("client_id", "client_secret")
                if _is_hashed_secret(secret)
            ]
        except DatabaseError:
            # Not migrated yet (or the table lives elsewhere): nothing to report.
            continue
    if not hashed:
        return []
    named = ", ".join(sorted(hashed)[:_LISTED_APPLICATIONS])
    if len(hashed) > _LISTED_APPLICATIONS:
        named += ", ..."
    return [
        checks.Warning(
            f"{len(hashed)} HS256 application(s) store their client secret hashed: {named}. The token "
            "endpoint still issues their ID tokens, signed with the cleartext secret the client "
            "authenticates with, but the provider keeps no key to verify them: such an ID token is "
            "refused as a bearer token and as id_token_hint at logout, and flows in which the client "
            "does not send its secret cannot issue one.",
            hint="Switch them to RS256, or set a new secret saved with hash_client_secret=False.",
            id="oauth2_provider.W002",
        )
    ]


@checks.register(checks.Tags.security)
def check_client_secret_hasher(app_configs, **kwargs):
    """``CLIENT_SECRET_HASHER`` must name a usable hasher of ``PASSWORD_HASHERS``.

    Failing at startup beats failing when an application is saved. The algorithm must also be
    registered for secrets to be recognised as hashed later: a hash that no registered hasher claims
    would be compared as a cleartext secret, so the hash itself would authenticate the client.
    """
    name = oauth2_settings.CLIENT_SECRET_HASHER
    try:
        hasher = get_hasher(name)
    except (ValueError, TypeError):
        problem = "is not the algorithm of a hasher in PASSWORD_HASHERS"
    else:
        if get_hashers_by_algorithm().get(hasher.algorithm) is None:
            problem = f"uses the algorithm {hasher.algorithm!r}, which no hasher in PASSWORD_HASHERS has"
        else:
            problem = _missing_hasher_library(hasher)
    if problem is None:
        return []
    return [
        checks.Error(
            f"OAUTH2_PROVIDER['CLIENT_SECRET_HASHER'] = {name!r} {problem}.",
            hint='Use "default" (the first of PASSWORD_HASHERS) or the algorithm name of one of them, '
            'such as "pbkdf2_sha256".',
            id="oauth2_provider.E005",
        )
    ]


def _missing_hasher_library(hasher):
    """Why the third-party library of ``hasher`` (argon2, bcrypt) cannot be imported, or None."""
    library = getattr(hasher, "library", None)
    if library is None:
        return None
    module = library[1] if isinstance(library, (tuple, list)) else library
    try:
        import_module(module)
    except ImportError as exc:
        return f"needs the {module!r} library, which cannot be imported ({exc})"
    return None
