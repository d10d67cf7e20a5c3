"""Who runs migration 0012: our package, the one-UPDATE floor, and upstream releases in throwaway venvs."""

import subprocess
import sys
import venv
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from .children import child_environment


ENVS_DIR = Path(__file__).resolve().parent / "_envs"
READY_MARKER = ".bench-ready"

# Drivers installed next to each upstream release, pinned to the versions of the current environment
# when it has them, so that only django-oauth-toolkit differs between contenders.
DRIVER_DISTRIBUTIONS = {"psycopg[binary]": "psycopg", "mysqlclient": "mysqlclient"}


@dataclass(frozen=True)
class Contender:
    """One way of running ``migrate oauth2_provider 0012``: an interpreter plus settings overrides."""

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
    """Upstream django-oauth-toolkit ``version`` in its own venv under ``_envs/`` (built on first use)."""
    return Contender(version, str(upstream_python(version, log)))


def upstream_requirements(version):
    """The pip requirements of an upstream venv: the release, our exact Django, the DB drivers."""
    requirements = [f"django-oauth-toolkit=={version}", f"django=={metadata.version('django')}"]
    for requirement, distribution in DRIVER_DISTRIBUTIONS.items():
        try:
            requirements.append(f"{requirement}=={metadata.version(distribution)}")
        except metadata.PackageNotFoundError:
            requirements.append(requirement)
    return requirements


def upstream_python(version, log):
    """Path of the interpreter of the venv holding upstream ``version``; creates the venv if missing.

    The venv's name carries our Python and Django versions, and a marker file written after a
    successful install lists its requirements, so a half-built or outdated venv is never reused.
    """
    python_tag = f"py{sys.version_info.major}.{sys.version_info.minor}"
    env_dir = ENVS_DIR / f"dot-{version}-{python_tag}-django-{metadata.version('django')}"
    python = env_dir / "bin" / "python"
    requirements = upstream_requirements(version)
    marker = env_dir / READY_MARKER
    if marker.exists() and marker.read_text().split() == requirements:
        return python
    log(f"building venv {env_dir.name}: {' '.join(requirements)}")
    venv.create(env_dir, clear=True, with_pip=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", *requirements], check=True)
    marker.write_text("\n".join(requirements) + "\n")
    return python


def describe(contender):
    """``oauth2_provider`` version and location as the contender's child process imports them.

    Run with the same environment and working directory as the measured child, this proves that an
    upstream venv does not pick up our source tree by accident.
    """
    probe = (
        "import django, oauth2_provider;"
        " print(oauth2_provider.__version__, django.get_version(), oauth2_provider.__file__)"
    )
    env, cwd = child_environment({})
    result = subprocess.run(
        [contender.python, "-c", probe], env=env, cwd=cwd, capture_output=True, text=True, check=True
    )
    package_version, django_version, location = result.stdout.split()
    return f"oauth2_provider {package_version} (Django {django_version}) from {Path(location).parent}"
