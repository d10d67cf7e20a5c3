"""Sphinx configuration for the django-oauth-toolkit-lts documentation."""

import ast
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent


def read_package_version():
    """``oauth2_provider.__version__``, read from the source file.

    Parsed rather than imported: importing parts of the package needs configured Django settings,
    and the docs must build without them.
    """
    module = ast.parse((ROOT / "oauth2_provider" / "__init__.py").read_text(encoding="utf-8"))
    for node in module.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__version__" for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise RuntimeError("oauth2_provider/__init__.py does not assign __version__")


project = "django-oauth-toolkit-lts"
author = "the django-oauth-toolkit-lts maintainers"
copyright = "django-oauth-toolkit-lts maintainers"
release = read_package_version()
version = release

# myst_parser renders CHANGELOG.md (included by changelog.md); everything else is reStructuredText.
extensions = ["myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]

html_theme = "alabaster"
html_title = f"{project} {release}"
