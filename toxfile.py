"""tox hooks that let plain ``tox`` run every environment on a fresh machine of our CI's kind.

Interpreters: the environments ask for python3.10 to python3.13 by name. A version that is not on PATH
but that pyenv has built (``$PYENV_ROOT/versions``, ``~/.pyenv/versions`` by default) is handed to tox's
interpreter discovery, as ``tox --discover`` would. One on PATH still wins, since only the versions PATH
lacks are handed over; pyenv's shims do not count, as they run only the versions pyenv has active. An
environment whose interpreter is in neither place fails with a message saying where it was looked for.

Debian packages: mysqlclient (the ``mysql`` extra) compiles against libmariadb, the PostgreSQL tests run
the online path through a PgBouncer of their own (``pgbouncer``), and the demo's browser test drives
Debian's Chromium. Where tox runs as root with apt-get (CI, a fresh development machine), a
missing package is installed before the environment installs anything; elsewhere nothing happens, and
the failure that follows names what to install.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tox.plugin import impl
from tox.tox_env.errors import Skip
from tox.tox_env.python.api import NoInterpreter, Python


# pyenv names a CPython build by its release ("3.10.13"); other builds (pypy3.10-7.3.17, 3.13.0t, ...)
# are left alone, since a spec such as python3.10 does not ask for a particular implementation.
_PYENV_CPYTHON_BUILD = re.compile(r"3\.(\d+)\.(\d+)")
_VERSION_SPEC = re.compile(r"python(3\.\d+)")


def _pyenv_root():
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def _pyenv_versions():
    return _pyenv_root() / "versions"


def _path_without_pyenv_shims():
    # A shim stands for every version pyenv has, but runs only the active ones: python3.10's shim fails
    # while the global version is 3.11. It is not an interpreter on PATH.
    shims = _pyenv_root() / "shims"
    return os.pathsep.join(
        entry for entry in os.environ.get("PATH", "").split(os.pathsep) if entry and Path(entry) != shims
    )


def _pyenv_interpreters_missing_from_path():
    """pyenv's ``python3.X`` for each minor version PATH has none of, the newest release of each first."""
    versions = _pyenv_versions()
    path = _path_without_pyenv_shims()
    builds = []
    for build in versions.iterdir() if versions.is_dir() else ():
        match = _PYENV_CPYTHON_BUILD.fullmatch(build.name)
        if match is None:
            continue
        minor, micro = map(int, match.groups())
        name = f"python3.{minor}"
        executable = build / "bin" / name
        if shutil.which(name, path=path) is None and os.access(executable, os.X_OK):
            builds.append(((minor, micro), str(executable)))
    return [executable for _, executable in sorted(builds, reverse=True)]


@impl
def tox_add_core_config(core_conf, state):
    options = state.conf.options
    # Only the commands that create environments (run, exec, devenv, ...) have the option.
    if hasattr(options, "discover"):
        options.discover = [*options.discover, *_pyenv_interpreters_missing_from_path()]


def _missing_interpreter_message(env_name, specs):
    installs = [f"pyenv install {match[1]}" for spec in specs if (match := _VERSION_SPEC.fullmatch(spec))]
    how = f" (`{'` or `'.join(installs)}`)" if installs else ""
    return (
        f"{env_name}: no interpreter for {', '.join(specs)} on PATH nor among pyenv's builds in "
        f"{_pyenv_versions()}. Install it{how}, put it on PATH, or name it with "
        "`tox --discover /path/to/python`."
    )


@impl
def tox_env_teardown(tox_env):
    if not isinstance(tox_env, Python):
        return
    try:
        _ = tox_env.base_python  # the interpreter discovery found, cached by tox
    except (NoInterpreter, Skip):
        specs = tox_env.conf["base_python"]
        print(_missing_interpreter_message(tox_env.name, specs), file=sys.stderr, flush=True)


def _has_libmariadb():
    return (
        bool(shutil.which("pkg-config"))
        and subprocess.run(["pkg-config", "--exists", "libmariadb"]).returncode == 0
    )


def _has_chromium():
    return bool(shutil.which("chromium") and shutil.which("chromedriver"))


def _has_pgbouncer():
    return bool(shutil.which("pgbouncer") or os.access("/usr/sbin/pgbouncer", os.X_OK))


LIBMARIADB = (_has_libmariadb, ("libmariadb-dev", "pkg-config"))
PGBOUNCER = (_has_pgbouncer, ("pgbouncer",))
CHROMIUM = (_has_chromium, ("chromium", "chromium-driver"))

_installed = set()


def _needs(tox_env):
    # Packaging environments have no extras of their own.
    if "extras" in tox_env.conf and "mysql" in tox_env.conf["extras"]:
        yield LIBMARIADB
    if "extras" in tox_env.conf and "postgres" in tox_env.conf["extras"]:
        yield PGBOUNCER
    if tox_env.name == "demo-tests":
        yield CHROMIUM


def _apt_install(packages):
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"installing {' '.join(packages)} (Debian packages this environment needs)", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=environment)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True, env=environment)


@impl
def tox_on_install(tox_env, arguments, section, of_type):
    for present, packages in _needs(tox_env):
        if packages not in _installed and not present():
            _apt_install(packages)
        _installed.add(packages)
