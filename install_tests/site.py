"""A minimal Django site using oauth2_provider, run inside the install tests' environments.

``python site.py <command> [args]`` runs a management command on the SQLite file named by
``SITE_DATABASE``; ``python site.py new-application`` saves an application, as a site's first new client.
"""

import os
import sys
from pathlib import Path

from django.core.management import call_command


# The folder of the shared settings holds no oauth2_provider: the installed one is what runs.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from minimal_site import configure  # noqa: E402


configure(os.environ["SITE_DATABASE"])

if sys.argv[1:] == ["new-application"]:
    from oauth2_provider.models import get_application_model

    get_application_model().objects.create(
        name="first", client_type="confidential", authorization_grant_type="client-credentials"
    )
    print("application saved")
else:
    call_command(*sys.argv[1:])
