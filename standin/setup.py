"""Version and requirement of the stand-in, from the release of django-oauth-toolkit-lts in this checkout."""

import importlib.util
import re
from pathlib import Path

from setuptools import setup


package = Path(__file__).resolve().parent.parent / "oauth2_provider"
release = re.search(r'__version__ = "([^"]+)"', (package / "__init__.py").read_text())[1]
spec = importlib.util.spec_from_file_location("_installation", package / "_installation.py")
installation = importlib.util.module_from_spec(spec)
spec.loader.exec_module(installation)

setup(
    version=installation.standin_version(release),
    install_requires=[f"{installation.LTS_DISTRIBUTION}=={release}"],
)
