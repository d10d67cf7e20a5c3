"""Who owns the ``oauth2_provider`` files on disk, and the stand-in distribution that keeps it that way.

django-oauth-toolkit and django-oauth-toolkit-lts both install ``oauth2_provider``. A project whose other
packages require ``django-oauth-toolkit`` installs the stand-in: a distribution under upstream's name with
no files of its own, a local version (``3.0.1+lts.N``, which satisfies every requirement 3.0.1 satisfies and
which no public index accepts) and one requirement, this package at the same release.

Standard library only: ``standin/setup.py`` loads this file on its own to build the stand-in.
"""

import base64
import hashlib
import re
from importlib import metadata
from pathlib import Path


LTS_DISTRIBUTION = "django-oauth-toolkit-lts"
UPSTREAM_DISTRIBUTION = "django-oauth-toolkit"
PACKAGE = "oauth2_provider"

_LTS_RELEASE = re.compile(r"(?P<api>\d+\.\d+\.\d+)\.post(?P<n>\d+)")


def standin_version(lts_version):
    """The stand-in's version for a release of this line: ``3.0.1.post3`` -> ``3.0.1+lts.3``."""
    match = _LTS_RELEASE.fullmatch(lts_version)
    if match is None:
        raise ValueError(f"{lts_version!r} is not a release of this line (3.0.1.postN)")
    return f"{match['api']}+lts.{match['n']}"


def _canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _files_of_package(distribution):
    return [path for path in distribution.files or () if path.parts and path.parts[0] == PACKAGE]


def foreign_owners():
    """``(name, version)`` of each installed distribution other than ours that has files in the package."""
    owners = set()
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"] or ""
        if _canonical(name) != LTS_DISTRIBUTION and _files_of_package(distribution):
            owners.add((name, distribution.version))
    return sorted(owners)


def _record_digest(path):
    return base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).rstrip(b"=").decode()


def files_not_ours(package_dir):
    """Files of the imported package that differ from this package's installed record, or are not in it.

    Empty when the record cannot tell (an editable install or a checkout lists no package files).
    """
    try:
        ours = _files_of_package(metadata.distribution(LTS_DISTRIBUTION))
    except metadata.PackageNotFoundError:
        return []
    recorded = {path for path in ours if path.hash is not None and path.hash.mode == "sha256"}
    if not any(path.name == "__init__.py" and len(path.parts) == 2 for path in recorded):
        return []
    package_dir = Path(package_dir)
    differing = []
    by_location = {}
    for path in recorded:
        location = Path(path.locate())
        by_location[location.resolve()] = path
        if not location.is_file():
            differing.append(f"{path} (missing)")
        elif _record_digest(location) != path.hash.value:
            differing.append(f"{path} (changed)")
    for location in sorted(package_dir.rglob("*.py")):
        if location.resolve() not in by_location:
            differing.append(f"{PACKAGE}/{location.relative_to(package_dir).as_posix()} (not ours)")
    return sorted(differing)


def reinstall_hint(version):
    """How to get from any mixed state back to this package alone: remove both, then install."""
    return (
        f"run `pip uninstall -y {UPSTREAM_DISTRIBUTION} {LTS_DISTRIBUTION}`, then "
        f"`pip install {LTS_DISTRIBUTION}=={version}`, together with the stand-in "
        f"`{UPSTREAM_DISTRIBUTION}=={standin_version(version)}` where another package requires "
        f"{UPSTREAM_DISTRIBUTION} (docs/install.rst)."
    )
