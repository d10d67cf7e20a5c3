"""Minimal Django settings for the child processes; the parent passes the database as JSON."""

import json
import os


DATABASES = {"default": json.loads(os.environ["SCHEMA_PARITY_DATABASE"])}
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "oauth2_provider"]
SECRET_KEY = "schema-parity-only"
USE_TZ = True
