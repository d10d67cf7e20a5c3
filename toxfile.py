"""tox hooks: the Debian packages some environments need, installed before them when missing.

mysqlclient (the ``mysql`` extra) compiles against libmariadb, and the demo's browser test drives
Debian's Chromium. Where tox runs as root with apt-get (CI, a fresh development machine), a missing
package is installed before the environment installs anything; elsewhere nothing happens, and the
failure that follows names what to install.
"""

import os
import shutil
import subprocess

from tox.plugin import impl


def _has_libmariadb():
    return (
        bool(shutil.which("pkg-config"))
        and subprocess.run(["pkg-config", "--exists", "libmariadb"]).returncode == 0
    )


def _has_chromium():
    return bool(shutil.which("chromium") and shutil.which("chromedriver"))


LIBMARIADB = (_has_libmariadb, ("libmariadb-dev", "pkg-config"))
CHROMIUM = (_has_chromium, ("chromium", "chromium-driver"))

_installed = set()


def _needs(tox_env):
    # Packaging environments have no extras of their own.
    if "extras" in tox_env.conf and "mysql" in tox_env.conf["extras"]:
        yield LIBMARIADB
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
