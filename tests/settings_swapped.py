"""Settings for ``tests/test_cleartokens_swapped.py``: the token models swapped for ``tests.swapped_app``'s.

Swappable model settings cannot change inside a running process, so these tests need a pytest run of
their own (the other test modules use the package's models and are not run with these settings):

    python -m pytest tests/test_cleartokens_swapped.py --ds=tests.settings_swapped

``DOT_TEST_DB`` and ``DOT_TEST_DB_NAME`` work as in ``tests.settings``.
"""

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS


INSTALLED_APPS = [*INSTALLED_APPS, "tests.swapped_app"]

OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "swapped_app.Token"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "swapped_app.RenewalToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "swapped_app.IdentityToken"
OAUTH2_PROVIDER_GRANT_MODEL = "swapped_app.AuthorizationCode"
