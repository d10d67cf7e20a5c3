"""The throwaway virtualenv holding upstream django-oauth-toolkit, reused while its versions still fit."""

import json
import os
import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path


UPSTREAM_DISTRIBUTION = "django-oauth-toolkit"
UPSTREAM_VERSION = "3.0.1"

# Printed by the venv's interpreter: the installed version of each distribution we pin, or null.
_REPORT_VERSIONS = (
    "import json, sys\n"
    "from importlib import metadata\n"
    "def version(name):\n"
    "    try:\n"
    "        return metadata.version(name)\n"
    "    except metadata.PackageNotFoundError:\n"
    "        return None\n"
    "print(json.dumps({name: version(name) for name in sys.argv[1:]}))\n"
)


def default_location():
    """Next to tox's environments (``TOX_WORK_DIR`` under tox), else the repository's ``.tox/``."""
    work_dir = os.environ.get("TOX_WORK_DIR") or Path(__file__).resolve().parent.parent / ".tox"
    return Path(work_dir) / "schema-parity-upstream"


def required_versions():
    """Upstream at the pinned release; Django and the drivers at the versions this interpreter runs.

    Only the package under test may differ between the two sides, so everything else is pinned to ours.
    """
    versions = {UPSTREAM_DISTRIBUTION: UPSTREAM_VERSION, "django": metadata.version("django")}
    for driver in ("psycopg", "mysqlclient"):
        try:
            versions[driver] = metadata.version(driver)
        except metadata.PackageNotFoundError:
            versions[driver] = None  # not installed here: take whatever pip picks
    return versions


def _requirement(name, version):
    extras = "[binary]" if name == "psycopg" else ""
    return f"{name}{extras}=={version}" if version else f"{name}{extras}"


def _python(location):
    return location / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _installed_versions(python, names):
    output = subprocess.run(
        [str(python), "-c", _REPORT_VERSIONS, *names], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output)


def _fits(python, required):
    if not python.exists():
        return False
    installed = _installed_versions(python, list(required))
    return all(
        installed[name] and (version is None or installed[name] == version)
        for name, version in required.items()
    )


def ensure_upstream_python(location):
    """The interpreter of the upstream virtualenv at ``location``, created or updated if needed."""
    python = _python(location)
    required = required_versions()
    if _fits(python, required):
        print(f"schema-parity: reusing {location}")
        return python
    if not python.exists():
        print(f"schema-parity: creating {location}")
        venv.EnvBuilder(with_pip=True, clear=True).create(location)
    requirements = [_requirement(name, version) for name, version in required.items()]
    print(f"schema-parity: installing {' '.join(requirements)}")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements],
        check=True,
        stdout=sys.stderr,
    )
    return python
