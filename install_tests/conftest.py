"""Fixtures of the install tests: the two wheels built from this checkout, served by a private index of
our own over HTTP as a company's index would serve them, and throwaway virtual environments.

Everything else (Django, upstream releases, dependents of django-oauth-toolkit, pip-tools, uv, Poetry)
comes from the package index the machine is configured with.
"""

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "docs" / "recipes"
# The placeholder index of the recipes in docs/recipes, replaced by ours in the tests.
DOCUMENTED_INDEX = "https://pypi.example.internal/simple/"
SITE = Path(__file__).resolve().parent / "site.py"
# An empty working directory for the commands that need none.
_OUTSIDE = tempfile.mkdtemp(prefix="install-tests-")


def run(*command, cwd=None, env=None, check=True):
    """Run ``command``; its output is shown when it fails, and returned either way.

    It runs outside the checkout unless told otherwise: `python -c` puts its working directory first on
    sys.path, where the checkout's oauth2_provider (and the egg-info of a build) would hide what is installed.
    """
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd or _OUTSIDE,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, command))} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory):
    """django-oauth-toolkit-lts's sdist and wheel and the stand-in's wheel, as `tox -e dist` builds them."""
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", out, ROOT)
    run(sys.executable, "-m", "build", "--wheel", "--outdir", out, ROOT / "standin")
    return out


@pytest.fixture(scope="session")
def index_url(artifacts, tmp_path_factory):
    """A PEP 503 simple index serving ``artifacts`` on a port of its own, for the life of the session."""
    root = tmp_path_factory.mktemp("index")
    projects = {}
    for artifact in artifacts.iterdir():
        project = artifact.name.split("-")[0].replace("_", "-")
        projects.setdefault(project, []).append(artifact)
    for project, files in projects.items():
        folder = root / "simple" / project
        folder.mkdir(parents=True)
        links = "".join(f'<a href="{file.name}">{file.name}</a>\n' for file in files)
        (folder / "index.html").write_text(f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n")
        for file in files:
            shutil.copy(file, folder / file.name)
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/simple/"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def recipe(name, index_url):
    """The text of ``docs/recipes/<name>`` with its placeholder index replaced by ours."""
    text = (RECIPES / name).read_text()
    assert DOCUMENTED_INDEX in text, name
    return text.replace(DOCUMENTED_INDEX, index_url)


class Venv:
    """A virtual environment of its own, created with the interpreter that runs the tests."""

    def __init__(self, path):
        self.path = path
        run(sys.executable, "-m", "venv", path)
        self.python = path / "bin" / "python"

    def pip(self, *args, check=True, cwd=None):
        return run(self.python, "-m", "pip", "--disable-pip-version-check", *args, check=check, cwd=cwd)

    def owners(self):
        """``{distribution: number of files}`` for each installed distribution with files in the package."""
        script = (
            "import json; from importlib import metadata\n"
            "owners = {d.metadata['Name']: sum(f.parts[:1] == ('oauth2_provider',) for f in d.files or ())"
            " for d in metadata.distributions()}\n"
            "print(json.dumps({name: count for name, count in owners.items() if count}))\n"
        )
        return json.loads(run(self.python, "-c", script).stdout)

    def site(self, *args, database, check=True):
        """A management command of a minimal site using oauth2_provider, on the SQLite file ``database``."""
        return run(self.python, SITE, *args, env={"SITE_DATABASE": str(database)}, check=check)

    def version(self):
        script = "import oauth2_provider; print(oauth2_provider.__version__)"
        return run(self.python, "-c", script).stdout.strip()


@pytest.fixture
def venv(tmp_path):
    return Venv(tmp_path / "venv")


@pytest.fixture(scope="session")
def venv_factory(tmp_path_factory):
    """Named environments that outlive one test: ``venv_factory("upstream")``."""
    return lambda name: Venv(tmp_path_factory.mktemp(name) / "venv")


@pytest.fixture(scope="session")
def release():
    """The release this checkout builds, read the way the stand-in's setup.py reads it."""
    sys.path.insert(0, str(ROOT))
    try:
        from oauth2_provider import __version__
        from oauth2_provider._installation import standin_version
    finally:
        sys.path.remove(str(ROOT))
    return __version__, standin_version(__version__)
