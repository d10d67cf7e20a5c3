"""The running demo, driven over HTTP the way a client application and a user's browser would."""

import json
import shutil
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from demo_helpers import PASSWORD, SERVICE_CLIENT, USERNAME, WEB_CLIENT, pkce_pair, post_form_fields
from jwcrypto import jwk, jwt


def signed_in_session(demo_server):
    """A ``requests`` session that signed in through the demo's login form."""
    session = requests.Session()
    login_url = demo_server.url("/accounts/login/")
    fields = post_form_fields(session.get(login_url).text)
    fields.update(username=USERNAME, password=PASSWORD)
    response = session.post(login_url, data=fields, allow_redirects=False)
    assert response.status_code == 302, "the demo credentials were refused"
    return session


def approve_consent(session, demo_server, authorize_params):
    """The redirect URI with its query, as the consent page sends the browser back to the client."""
    authorize_url = demo_server.url("/o/authorize/")
    consent_page = session.get(authorize_url, params=authorize_params)
    assert consent_page.status_code == 200
    assert "Authorize Demo web app?" in consent_page.text
    fields = post_form_fields(consent_page.text)
    fields["allow"] = "on"
    response = session.post(authorize_url, data=fields, allow_redirects=False)
    assert response.status_code == 302
    return response.headers["Location"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def verified_id_token_claims(demo_server, id_token):
    """The claims of ``id_token`` once its signature checks out against the demo's published JWKS."""
    keys = jwk.JWKSet.from_json(requests.get(demo_server.url("/o/.well-known/jwks.json")).text)
    return json.loads(jwt.JWT(jwt=id_token, key=keys).claims)


def test_authorization_code_flow_with_pkce_then_refresh(demo_server):
    session = signed_in_session(demo_server)
    redirect_uri = demo_server.url("/callback/")
    verifier, challenge = pkce_pair()
    location = approve_consent(
        session,
        demo_server,
        {
            "response_type": "code",
            "client_id": WEB_CLIENT[0],
            "redirect_uri": redirect_uri,
            "scope": "openid read",
            "state": "demo-test-state",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert location.startswith(redirect_uri + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["demo-test-state"]

    token_url = demo_server.url("/o/token/")
    exchange = requests.post(
        token_url,
        auth=WEB_CLIENT,
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
    )
    assert exchange.status_code == 200, exchange.text
    tokens = exchange.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["scope"] == "openid read"
    claims = verified_id_token_claims(demo_server, tokens["id_token"])
    assert claims["aud"] == WEB_CLIENT[0]
    assert claims["iss"] == demo_server.url("/o")

    hello = requests.get(demo_server.url("/api/hello/"), headers=bearer(tokens["access_token"]))
    assert hello.status_code == 200
    assert hello.json()["user"] == USERNAME
    profile = requests.get(demo_server.url("/api/profile/"), headers=bearer(tokens["access_token"]))
    assert profile.status_code == 200
    assert profile.json()["user"] == USERNAME
    assert profile.json()["client_id"] == WEB_CLIENT[0]
    assert profile.json()["scopes"] == ["openid", "read"]

    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    refreshed = requests.post(token_url, auth=WEB_CLIENT, data=refresh)
    assert refreshed.status_code == 200, refreshed.text
    new_access_token = refreshed.json()["access_token"]
    assert new_access_token != tokens["access_token"]
    profile_url = demo_server.url("/api/profile/")
    assert requests.get(profile_url, headers=bearer(new_access_token)).status_code == 200
    # Refreshing revoked the access token it replaced.
    assert requests.get(profile_url, headers=bearer(tokens["access_token"])).status_code == 401


def test_authorization_request_without_pkce_is_refused(demo_server):
    session = signed_in_session(demo_server)
    redirect_uri = demo_server.url("/callback/")
    response = session.get(
        demo_server.url("/o/authorize/"),
        params={"response_type": "code", "client_id": WEB_CLIENT[0], "redirect_uri": redirect_uri},
        allow_redirects=False,
    )
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["invalid_request"]


def test_client_credentials_flow(demo_server):
    token_url = demo_server.url("/o/token/")
    response = requests.post(token_url, auth=SERVICE_CLIENT, data={"grant_type": "client_credentials"})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]

    hello = requests.get(demo_server.url("/api/hello/"), headers=bearer(token))
    assert hello.json() == {"message": "Hello from a ProtectedResourceView", "user": None}
    profile = requests.get(demo_server.url("/api/profile/"), headers=bearer(token)).json()
    assert (profile["user"], profile["client_id"], profile["scopes"]) == (None, SERVICE_CLIENT[0], ["read"])


def test_protected_views_refuse_requests_without_a_valid_token(demo_server):
    assert requests.get(demo_server.url("/api/hello/")).status_code == 403
    assert requests.get(demo_server.url("/api/hello/"), headers=bearer("not-a-token")).status_code == 403
    profile = requests.get(demo_server.url("/api/profile/"), headers=bearer("not-a-token"))
    assert profile.status_code == 401
    assert profile.headers["WWW-Authenticate"].startswith('Bearer realm="api"')


def printed_shell_commands(output):
    """The client-credentials commands the demo printed at start-up, one per line."""
    lines = output.splitlines()
    start = lines.index("Client credentials, then the protected API and the DRF view, from a shell:")
    return [line for line in lines[start + 1 :] if line.startswith(("TOKEN=", "curl "))]


def test_printed_curl_commands_work(demo_server):
    if shutil.which("curl") is None:
        pytest.fail("the printed commands need curl: apt-get install -y curl", pytrace=False)
    commands = printed_shell_commands(demo_server.output())
    assert len(commands) == 3
    script = "\n".join(["set -euo pipefail", *(f"{command}; echo" for command in commands)])
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    hello, profile = (json.loads(line) for line in result.stdout.splitlines() if line)
    assert hello["user"] is None
    assert profile["client_id"] == SERVICE_CLIENT[0]
