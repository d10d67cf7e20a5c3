"""The only upstream tests the harness does not simply run and count.

DEVIATIONS: behaviour we changed on purpose (a backported security fix). The upstream test still runs, as
``xfail(strict=True)`` with the upstream issue number, so that it turns red if the deviation disappears.
Each one is also listed in docs/backports.rst and CHANGELOG.md.

NEEDS_INTERNET: deselected, with the reason, because they talk to a real server outside this machine.

Nothing else is excluded. Tests that fail because a part of the package is not built yet are not here: they
run, fail, count as failed, and are tracked in known_failures_<release>.txt.
"""

from typing import NamedTuple


class Deviation(NamedTuple):
    upstream_issue: int
    reason: str


# node id -> Deviation
DEVIATIONS: dict[str, Deviation] = {}

# node id -> why it needs the internet
NEEDS_INTERNET: dict[str, str] = {
    "tests/test_oauth2_validators.py::TestOAuth2ValidatorErrorResourceToken"
    "::test_response_when_auth_server_response_return_404": (
        "really POSTs to http://example.com/token/introspection/ and expects that server to answer 404"
    ),
}
