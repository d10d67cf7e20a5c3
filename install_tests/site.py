"""A minimal Django site using oauth2_provider, run inside the install tests' environments.

``python site.py <command> [args]`` runs a management command on the SQLite file named by
``SITE_DATABASE``; ``python site.py new-application`` saves an application, as a site's first new client.
"""

import os
import sys

import django
from django.conf import settings
from django.core.management import call_command


settings.configure(
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.admin",
        "oauth2_provider",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["SITE_DATABASE"]}},
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    ],
    TEMPLATES=[
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
    ],
    SECRET_KEY="install-tests",
    USE_TZ=True,
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
)
django.setup()

if sys.argv[1:] == ["new-application"]:
    from oauth2_provider.models import get_application_model

    get_application_model().objects.create(
        name="first", client_type="confidential", authorization_grant_type="client-credentials"
    )
    print("application saved")
else:
    call_command(*sys.argv[1:])
