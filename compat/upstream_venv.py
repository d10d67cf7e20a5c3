"""Throwaway virtualenvs holding an upstream django-oauth-toolkit release, for schema parity and benchmarks.

Only the package under comparison may differ from the running environment: Django, the database drivers
and any other distribution asked for are pinned to the versions installed here. A marker file, written
after a successful install, lists the requirements, so a half-built or outdated venv is never reused.
"""

import os
import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path


UPSTREAM_DISTRIBUTION = "django-oauth-toolkit"
UPSTREAM_VERSION = "3.0.1"
READY_MARKER = ".upstream-ready"

# Requirement name -> the distribution whose installed version it is pinned to.
_PINNED = {"django": "django", "psycopg[binary]": "psycopg", "mysqlclient": "mysqlclient"}


def default_location():
    """Next to tox's environments (``TOX_WORK_DIR`` under tox), else the repository's ``.tox/``."""
    work_dir = os.environ.get("TOX_WORK_DIR") or Path(__file__).resolve().parent.parent / ".tox"
    return Path(work_dir) / "schema-parity-upstream"


def requirements(version, also=()):
    """Upstream ``version``, then Django, the drivers and the distributions ``also`` at our versions.

    A distribution not installed here is required without a version (pip picks one).
    """
    pinned = {**_PINNED, **{name: name for name in also}}
    lines = [f"{UPSTREAM_DISTRIBUTION}=={version}"]
    for requirement, distribution in pinned.items():
        try:
            lines.append(f"{requirement}=={metadata.version(distribution)}")
        except metadata.PackageNotFoundError:
            lines.append(requirement)
    return lines


def interpreter(location):
    """The Python executable of the venv at ``location``."""
    return location / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def upstream_python(location, version=UPSTREAM_VERSION, also=(), log=print):
    """The interpreter of a venv at ``location`` holding upstream ``version``, built or rebuilt if needed."""
    python = interpreter(location)
    wanted = requirements(version, also)
    marker = location / READY_MARKER
    if marker.exists() and marker.read_text().split() == wanted:
        log(f"reusing {location}")
        return python
    log(f"building {location}: {' '.join(wanted)}")
    venv.EnvBuilder(with_pip=True, clear=True).create(location)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted],
        check=True,
        stdout=sys.stderr,
    )
    marker.write_text("\n".join(wanted) + "\n")
    return python
