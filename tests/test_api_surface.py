"""Every public name of django-oauth-toolkit 3.0.1 imports from the same module path in our package.

compat/upstream_3_0_1_surface.txt lists them, one module a line: ``module.path: Name, other_name``.
Names whose module is not built yet are expected to fail, strictly: the moment one is built it becomes an
XPASS failure, and its entry in NOT_BUILT_YET / BUILT_LATER_THAN_MODULE below has to go.
"""

import importlib
from pathlib import Path

import pytest


SURFACE_FILE = Path(__file__).resolve().parent.parent / "compat" / "upstream_3_0_1_surface.txt"

# module -> the issue that builds it.
NOT_BUILT_YET = {
    "oauth2_provider.views": 4,
    "oauth2_provider.views.application": 4,
    "oauth2_provider.views.base": 4,
    "oauth2_provider.views.generic": 4,
    "oauth2_provider.views.introspect": 4,
    "oauth2_provider.views.mixins": 4,
    "oauth2_provider.views.token": 4,
    "oauth2_provider.oauth2_validators": 4,
    "oauth2_provider.oauth2_backends": 4,
    "oauth2_provider.forms": 4,
    "oauth2_provider.http": 4,
    "oauth2_provider.urls": 4,
    "oauth2_provider.views.oidc": 5,
    "oauth2_provider.decorators": 6,
    "oauth2_provider.middleware": 6,
    "oauth2_provider.backends": 6,
    "oauth2_provider.contrib.rest_framework": 6,
    "oauth2_provider.contrib.rest_framework.authentication": 6,
    "oauth2_provider.contrib.rest_framework.permissions": 6,
}
# (module, name) -> the issue that adds an OpenID Connect name to a module an earlier issue builds.
BUILT_LATER_THAN_MODULE = {
    ("oauth2_provider.views", "ConnectDiscoveryInfoView"): 5,
    ("oauth2_provider.views", "JwksInfoView"): 5,
    ("oauth2_provider.views", "RPInitiatedLogoutView"): 5,
    ("oauth2_provider.views", "UserInfoView"): 5,
    ("oauth2_provider.views.mixins", "OIDCOnlyMixin"): 5,
    ("oauth2_provider.views.mixins", "OIDCLogoutOnlyMixin"): 5,
    ("oauth2_provider.forms", "ConfirmLogoutForm"): 5,
    ("oauth2_provider.urls", "oidc_urlpatterns"): 5,
}


def read_surface():
    """``{module path: [public names]}`` from the surface file (a module may list no names)."""
    surface = {}
    for line in SURFACE_FILE.read_text().splitlines():
        if not line.strip():
            continue
        module, _, names = line.partition(":")
        surface[module.strip()] = [name.strip() for name in names.split(",") if name.strip()]
    return surface


def _expected_failure(module, name):
    issue = BUILT_LATER_THAN_MODULE.get((module, name), NOT_BUILT_YET.get(module))
    if issue is None:
        return []
    # Only a missing module or name is expected; any other exception is a real failure.
    return [
        pytest.mark.xfail(
            strict=True, raises=(ImportError, AttributeError), reason=f"not built yet: issue #{issue}"
        )
    ]


def _cases():
    for module, names in read_surface().items():
        for name in names or [None]:
            case_id = f"{module}:{name}" if name else module
            yield pytest.param(module, name, marks=_expected_failure(module, name), id=case_id)


@pytest.mark.parametrize(("module_path", "name"), list(_cases()))
def test_public_name_imports_from_its_upstream_module(module_path, name):
    module = importlib.import_module(module_path)
    if name is not None:
        getattr(module, name)


def test_expected_failure_tables_name_only_listed_modules_and_names():
    """A typo in the tables would silently expect nothing; every entry must name something in the list."""
    surface = read_surface()
    assert set(NOT_BUILT_YET) <= set(surface)
    assert all(name in surface.get(module, ()) for module, name in BUILT_LATER_THAN_MODULE)


def test_surface_file_lists_the_whole_upstream_api():
    """Guard against a truncated copy: upstream 3.0.1 has 37 public modules and 179 public names."""
    surface = read_surface()
    assert len(surface) == 37
    assert sum(len(names) for names in surface.values()) == 179
