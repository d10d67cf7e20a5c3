from importlib import metadata

from django.apps import apps
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import router

from . import __version__
from ._validation import is_positive_int
from .backfill import get_batch_size
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


@checks.register()
def check_clear_expired_batching(app_configs, **kwargs):
    """``cleartokens`` needs a positive batch size and a pause that is a number of seconds."""
    errors = []
    size = oauth2_settings.CLEAR_EXPIRED_TOKENS_BATCH_SIZE
    if not is_positive_int(size):
        errors.append(
            checks.Error(
                "OAUTH2_PROVIDER['CLEAR_EXPIRED_TOKENS_BATCH_SIZE'] must be a positive integer, "
                f"not {size!r}.",
                id="oauth2_provider.E002",
            )
        )
    pause = oauth2_settings.CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL
    if isinstance(pause, bool) or not isinstance(pause, (int, float)) or pause < 0:
        errors.append(
            checks.Error(
                "OAUTH2_PROVIDER['CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL'] must be a number of seconds (0 or "
                f"more), not {pause!r}.",
                id="oauth2_provider.E003",
            )
        )
    return errors


@checks.register()
def check_token_checksum_batch_size(app_configs, **kwargs):
    """Refuse a bad batch size before ``migrate`` starts 0012, not in the middle of it."""
    try:
        get_batch_size()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="oauth2_provider.E001")]
    return []
