"""Run by ``tox -e package``: the built wheel, installed in a clean env, passes Django's checks.

Run as a script from outside the checkout, so ``oauth2_provider`` can only come from the wheel.
"""

import sys
from pathlib import Path

from django.core.management import call_command
from minimal_site import configure


configure(":memory:")

import oauth2_provider  # noqa: E402


checkout_package = Path(__file__).resolve().parent.parent / "oauth2_provider"
if Path(oauth2_provider.__file__).resolve().parent == checkout_package:
    sys.exit(f"oauth2_provider was imported from the checkout ({oauth2_provider.__file__}), not the wheel")
print(f"oauth2_provider {oauth2_provider.__version__} from {Path(oauth2_provider.__file__).parent}")
from django.contrib.staticfiles import finders  # noqa: E402


if finders.find("oauth2_provider/css/oauth2_provider.css") is None:
    sys.exit("the wheel does not ship the pages' stylesheet, static/oauth2_provider/css/oauth2_provider.css")
call_command("check", fail_level="WARNING")
call_command("makemigrations", "oauth2_provider", check=True, dry_run=True)
call_command("migrate", verbosity=0)
print("installed package: checks clean, no missing migrations, migrates from scratch")
