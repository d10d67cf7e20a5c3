"""Fetch an upstream sdist from the package index (cached) and take its ``tests/test_*.py`` files."""

import re
import subprocess
import sys
import tarfile
from fnmatch import fnmatch
from pathlib import PurePosixPath


DISTRIBUTION = "django-oauth-toolkit"
TEST_FILE_PATTERN = "test_*.py"


def _cached_sdist(folder, release):
    # Newer sdists use the normalised name (django_oauth_toolkit-3.0.1.tar.gz), older ones the dashed one.
    pattern = re.compile(rf"django[-_]oauth[-_]toolkit-{re.escape(release)}\.tar\.gz")
    matches = [path for path in folder.glob("*.tar.gz") if pattern.fullmatch(path.name)]
    return matches[0] if matches else None


def fetch(release, folder):
    """Path of the sdist of ``release`` in ``folder``, downloaded with pip unless it is already there."""
    folder.mkdir(parents=True, exist_ok=True)
    cached = _cached_sdist(folder, release)
    if cached is not None:
        return cached
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--disable-pip-version-check",
            "--dest",
            str(folder),
            f"{DISTRIBUTION}=={release}",
        ],
        check=True,
    )
    downloaded = _cached_sdist(folder, release)
    if downloaded is None:
        raise RuntimeError(f"pip download left no sdist of {DISTRIBUTION} {release} in {folder}")
    return downloaded


def _is_test_file(member):
    # Only files directly in the sdist's top-level tests/ folder: <top>/tests/test_x.py.
    parts = PurePosixPath(member.name).parts
    return (
        member.isfile() and len(parts) == 3 and parts[1] == "tests" and fnmatch(parts[2], TEST_FILE_PATTERN)
    )


def extract_test_files(sdist, destination):
    """Write the sdist's ``tests/test_*.py`` files into ``destination``; return their names, sorted."""
    names = []
    with tarfile.open(sdist) as archive:
        for member in filter(_is_test_file, archive.getmembers()):
            name = PurePosixPath(member.name).name
            (destination / name).write_bytes(archive.extractfile(member).read())
            names.append(name)
    return sorted(names)
