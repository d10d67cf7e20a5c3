from importlib import import_module, metadata

from django.apps import apps
from django.contrib.auth.hashers import get_hasher, get_hashers_by_algorithm
from django.core import checks
from django.db import router

from . import __version__
from ._batching import setting_problem
from .settings import oauth2_settings


UPSTREAM_DISTRIBUTION = "django-oauth-toolkit"


@checks.register(checks.Tags.database)
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
            id="oauth2_provider.E004",
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
