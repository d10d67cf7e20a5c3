"""Who runs a scenario: our package, the one-UPDATE floor of 0012, upstream releases in throwaway venvs."""

import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from compat.upstream_venv import upstream_python

from .children import child_environment


ENVS_DIR = Path(__file__).resolve().parent / "_envs"


@dataclass(frozen=True)
class Contender:
    """Who runs a scenario's child: an interpreter, plus settings overrides for it."""

    label: str
    python: str
    settings: dict = field(default_factory=dict)


def ours(batch_size=None):
    """Our package as installed in the running environment, with its default batch size unless given."""
    settings = {} if batch_size is None else {"BENCH_BATCH_SIZE": str(batch_size)}
    label = "ours" if batch_size is None else f"ours (batch {batch_size})"
    return Contender(label, sys.executable, settings)


def one_update(rows):
    """Our 0012 with one page holding every row: the backfill becomes a single set-based UPDATE."""
    return Contender("one-UPDATE", sys.executable, {"BENCH_BATCH_SIZE": str(rows + 1)})


def upstream(version, log):
    """Upstream django-oauth-toolkit ``version`` in its own venv under ``_envs/`` (built on first use).

    The venv's name carries our Python and Django versions. Django REST framework is pinned into it
    too: the ``api`` scenario's DRF view needs it; so are oauthlib and jwcrypto, which do the protocol
    and signing work the ``endpoints`` scenario times.
    """
    python_tag = f"py{sys.version_info.major}.{sys.version_info.minor}"
    env_dir = ENVS_DIR / f"dot-{version}-{python_tag}-django-{metadata.version('django')}"
    python = upstream_python(env_dir, version, also=("djangorestframework", "oauthlib", "jwcrypto"), log=log)
    return Contender(version, str(python))


def describe(contender, source=None):
    """``oauth2_provider`` version and location as the contender's child process imports them.

    Run with the same environment and working directory as the measured child, this proves that an
    upstream venv does not pick up our source tree by accident.
    """
    probe = (
        "import django, oauth2_provider;"
        " print(oauth2_provider.__version__, django.get_version(), oauth2_provider.__file__)"
    )
    env, cwd = child_environment({}, source)
    result = subprocess.run(
        [contender.python, "-c", probe], env=env, cwd=cwd, capture_output=True, text=True, check=True
    )
    package_version, django_version, location = result.stdout.split()
    return f"oauth2_provider {package_version} (Django {django_version}) from {Path(location).parent}"
