from importlib import import_module
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import get_hasher, get_hashers, get_hashers_by_algorithm
from django.core import checks
from django.db import DatabaseError, connections, router
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from . import __version__
from ._batching import setting_problem
from ._installation import LTS_DISTRIBUTION, files_not_ours, foreign_owners, reinstall_hint
from ._replica_lag import settings_problems as replica_lag_problems
from .settings import oauth2_settings


# How many items (files, client ids, migrations) a message names; its count covers the rest.
_LISTED = 10


def _first_few(items):
    """The first ``_LISTED`` of ``items``, comma-separated, with an ellipsis when there are more."""
    return ", ".join(items[:_LISTED]) + (", ..." if len(items) > _LISTED else "")


# Tagged "models", not "database": it asks the routers and never opens a connection, and Django 6.1 leaves
# database-tagged checks out of a plain `manage.py check` (they run only with --database).
@checks.register(checks.Tags.models)
def validate_token_configuration(app_configs, **kwargs):
    """The token models must share one database: revoking and rotating writes to several at once."""
    models = {}
    for setting in ("ACCESS_TOKEN_MODEL", "ID_TOKEN_MODEL", "REFRESH_TOKEN_MODEL"):
        label = getattr(oauth2_settings, setting)
        try:
            models[setting] = apps.get_model(label)
        # get_model() raises what the label's type and shape make it raise.
        except (LookupError, ValueError, TypeError, AttributeError):
            return [
                checks.Error(
                    f"OAUTH2_PROVIDER['{setting}'] = {label!r} is not an installed model.",
                    hint='Name it as "app_label.ModelName", the model of an app in INSTALLED_APPS.',
                    id="oauth2_provider.E006",
                )
            ]
    databases = {router.db_for_write(model) for model in models.values()}
    if len(databases) > 1:
        return [checks.Error("The token models are expected to be stored in the same database.")]
    return []


def _mixed_install_problems():
    """What on disk says that ``oauth2_provider`` is not only this package's: other owners, other files."""
    problems = [
        f"the {name} distribution ({version}) installs files into oauth2_provider too"
        for name, version in foreign_owners()
    ]
    differing = files_not_ours(Path(__file__).resolve().parent)
    if differing:
        problems.append(
            f"{len(differing)} file(s) of oauth2_provider are not those {LTS_DISTRIBUTION} installed: "
            f"{_first_few(differing)}"
        )
    return problems


@checks.register(checks.Tags.compatibility)
def check_single_distribution(app_configs, **kwargs):
    """Warn when the files of oauth2_provider on disk are not exactly this package's.

    Decided from the installed records and the files themselves, not from distribution names: the
    stand-in named django-oauth-toolkit owns no file and is fine, while an upstream release installed
    over this package (or removed from under it) leaves files that are not ours.
    """
    problems = _mixed_install_problems()
    if not problems:
        return []
    return [
        checks.Warning(
            f"oauth2_provider is not installed by {LTS_DISTRIBUTION} alone: {'; '.join(problems)}.",
            hint=f"Reinstall it alone: {reinstall_hint(__version__)}",
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
def check_token_checksum_migration_settings(app_configs, **kwargs):
    """Refuse a bad batch size or lock timeout before ``migrate`` starts 0012, not in the middle of it."""
    return _batching_errors(
        {
            "TOKEN_CHECKSUM_BATCH_SIZE": "oauth2_provider.E001",
            "TOKEN_CHECKSUM_MIGRATION_LOCK_TIMEOUT": "oauth2_provider.E009",
        }
    )


@checks.register()
def check_token_checksum_batch_interval(app_configs, **kwargs):
    """``tokenchecksum prepare`` pauses between pages: refuse a bad pause before it starts."""
    return _batching_errors({"TOKEN_CHECKSUM_BATCH_INTERVAL": "oauth2_provider.E004"})


@checks.register()
def check_replica_lag_settings(app_configs, **kwargs):
    """The replicas that pace committed pages must be databases of the project, the lag a duration."""
    return [
        checks.Error(problem, id="oauth2_provider.E008")
        for problem in replica_lag_problems(settings.DATABASES)
    ]


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
    named = _first_few(sorted(hashed))
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
    try:
        get_hashers()
    # Whatever importing a listed hasher raises (its module may fail in any way), or a list that is no list.
    except Exception as exc:
        return [_unloadable_password_hashers(exc)]
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


def _unloadable_password_hashers(exc):
    # Django itself runs with such a list until something hashes a password, and so did DOT 3.0.1: a
    # warning, not an error that would stop migrate, runserver and test.
    return checks.Warning(
        f"PASSWORD_HASHERS cannot be loaded ({type(exc).__name__}: {exc}): no password and no client "
        "secret can be hashed, so saving an application with hash_client_secret=True fails.",
        hint="Remove the hashers Django no longer ships (such as SHA1PasswordHasher, gone in Django 5.1) "
        "from PASSWORD_HASHERS, or install the package that provides them.",
        id="oauth2_provider.W004",
    )


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


@checks.register(checks.Tags.database)
def check_applied_migrations_known(app_configs, databases=None, **kwargs):
    """Warn about oauth2_provider migrations recorded as applied that this package does not have.

    A later django-oauth-toolkit installed over this package and migrated leaves them (0013 onwards):
    their columns stay, some NOT NULL without a default that this package fills, so the first new
    application or token fails. Only where the database may be queried, like Django's own database checks.
    """
    if not databases:
        return []
    known = {
        name
        for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations
        if app == "oauth2_provider"
    }
    warnings = []
    for database in databases:
        try:
            applied = MigrationRecorder(connections[database]).applied_migrations()
        except DatabaseError:
            continue
        unknown = sorted(name for app, name in applied if app == "oauth2_provider" and name not in known)
        if unknown:
            warnings.append(
                checks.Warning(
                    f"The database {database!r} records migrations of oauth2_provider that "
                    f"{LTS_DISTRIBUTION} does not have: {_first_few(unknown)}. A later "
                    "django-oauth-toolkit applied them, and the columns they added break saving new "
                    "applications and tokens here.",
                    hint="Install that django-oauth-toolkit release again, run `manage.py migrate "
                    "oauth2_provider 0012_add_token_checksum` with it, then reinstall "
                    f"{LTS_DISTRIBUTION} alone (docs/install.rst, Going back to upstream).",
                    id="oauth2_provider.W003",
                )
            )
    return warnings


@checks.register(checks.Tags.database)
def check_token_checksum_helpers_removed(app_configs, databases=None, **kwargs):
    """Warn while the objects of ``tokenchecksum prepare`` remain after 0012 is applied.

    They are meant to last only while pre-0012 code still runs; upstream has no command to remove them, so
    a site that goes back to upstream before ``finish`` keeps them for good.
    """
    from ._online_checksum import BEFORE_UPSTREAM, Refused, online_for

    warnings = []
    for database in databases or ():
        try:
            online = online_for(database)
            left = online.helpers_left() if online.migration_state() == "0012" else []
        except (Refused, DatabaseError):
            continue
        if left:
            warnings.append(
                checks.Warning(
                    f"The database {database!r} still has the objects of 'tokenchecksum prepare' "
                    f"({', '.join(left)}), beyond the schema of migration 0012.",
                    hint=f"Run 'manage.py tokenchecksum finish --database {database}' once no pre-0012 code "
                    f"runs any more; {BEFORE_UPSTREAM}.",
                    id="oauth2_provider.W006",
                )
            )
    return warnings
