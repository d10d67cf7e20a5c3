"""The only upstream tests the harness does not simply run and count.

DEVIATIONS: upstream 3.0.1 tests of behaviour we changed on purpose (a backported security fix, or a fix of
our own beyond every upstream release). The upstream test still runs, as ``xfail(strict=True)`` with the
upstream issue number (none for a fix of our own), so that it turns red if the deviation disappears. Each
one is also listed in docs/compatibility.rst and CHANGELOG.md. Only the run of 3.0.1's own tests gets them:
a later release may have rewritten a test of the same name to agree with us, and what still contradicts us
there is a DEVIATION entry of that release's classification file.

NEEDS_INTERNET: deselected, with the reason, because they talk to a real server outside this machine.

Nothing else is excluded. Every other failing test runs, fails, counts as failed, and is listed with its
class in classification_<release>.txt.
"""

from typing import NamedTuple


#: The release whose test suite is the compatibility contract, and whose node ids DEVIATIONS names.
BASELINE_RELEASE = "3.0.1"


class Deviation(NamedTuple):
    #: The upstream issue of a backported fix; None for a fix of our own beyond every upstream release.
    upstream_issue: int | None
    reason: str


_EXACT_REDIRECT_URIS = Deviation(
    1801,
    "requests a redirect_uri with query parameters its application did not register; "
    "redirect URIs now match exactly (RFC 9700 section 2.1)",
)
_NO_CREDENTIAL_IN_STR = Deviation(
    1736, "expects str() to be the cleartext credential; it names the model and primary key instead"
)
_REDIRECT_URI_QUERY_TESTS = [
    "tests/test_authorization_code.py::TestAuthorizationCodeView::"
    "test_code_post_auth_redirection_uri_with_querystring",
    "tests/test_authorization_code.py::TestAuthorizationCodeTokenView::"
    "test_code_exchange_fails_when_redirect_uri_does_not_match",
    "tests/test_authorization_code.py::TestAuthorizationCodeTokenView::"
    "test_code_exchange_succeed_when_redirect_uri_match",
    "tests/test_authorization_code.py::TestAuthorizationCodeTokenView::"
    "test_code_exchange_succeed_when_redirect_uri_match_with_multiple_query_params",
    "tests/test_authorization_code.py::TestOIDCAuthorizationCodeTokenView::"
    "test_id_token_code_exchange_succeed_when_redirect_uri_match_with_multiple_query_params",
    "tests/test_hybrid.py::TestHybridView::test_code_post_auth_redirection_uri_with_querystring_code_id_token",
    "tests/test_hybrid.py::TestHybridView::"
    "test_code_post_auth_redirection_uri_with_querystring_code_id_token_token",
    "tests/test_hybrid.py::TestHybridView::test_code_post_auth_redirection_uri_with_querystring_code_token",
    "tests/test_hybrid.py::TestHybridTokenView::test_code_exchange_fails_when_redirect_uri_does_not_match",
    "tests/test_hybrid.py::TestHybridTokenView::test_code_exchange_succeed_when_redirect_uri_match",
    "tests/test_hybrid.py::TestHybridTokenView::"
    "test_code_exchange_succeed_when_redirect_uri_match_with_multiple_query_params",
    "tests/test_hybrid.py::TestHybridTokenView::"
    "test_id_token_code_exchange_succeed_when_redirect_uri_match_with_multiple_query_params",
    "tests/test_implicit.py::TestImplicitAuthorizationCodeView::test_implicit_redirection_uri_with_querystring",
    # These two deny consent for that unregistered URI: a refusal is only redirected to a registered one.
    "tests/test_authorization_code.py::TestAuthorizationCodeView::"
    "test_code_post_auth_failing_redirection_uri_with_querystring",
    "tests/test_hybrid.py::TestHybridView::test_code_post_auth_failing_redirection_uri_with_querystring",
]

_NO_ASSERTION_FOR_OTHER_CREDENTIALS = Deviation(
    1169,
    "expects AssertionError (a server error) when another authentication class set request.auth; "
    "the permission refuses the request (403) and logs a warning",
)

_CLIENT_CREDENTIALS_FOR_CONFIDENTIAL_CLIENTS = Deviation(
    None,
    "obtains client-credentials tokens for a public client; only a confidential client may use that grant "
    "(RFC 6749 section 4.4), a public one gets unauthorized_client (issue 26 of this package)",
)
_CLIENT_CREDENTIALS_TESTS = [
    "tests/test_client_credential.py::TestClientCredential::test_client_credential_access_allowed",
    "tests/test_client_credential.py::TestClientCredential::test_client_credential_does_not_issue_refresh_token",
    "tests/test_client_credential.py::TestClientCredential::test_client_credential_user_is_none_on_access_token",
    "tests/test_client_credential.py::TestExtendedRequest::test_extended_request",
]

# node id -> Deviation
DEVIATIONS: dict[str, Deviation] = {
    **dict.fromkeys(_CLIENT_CREDENTIALS_TESTS, _CLIENT_CREDENTIALS_FOR_CONFIDENTIAL_CLIENTS),
    "tests/test_oauth2_validators.py::TestOAuth2Validator::test_authenticate_request_body": Deviation(
        None,
        "expects a client registered with an empty secret to authenticate with its client id alone; "
        "no secret is no credential (RFC 6749 section 2.3.1, issue 26 of this package)",
    ),
    **dict.fromkeys(_REDIRECT_URI_QUERY_TESTS, _EXACT_REDIRECT_URIS),
    "tests/test_models.py::TestGrantModel::test_str": _NO_CREDENTIAL_IN_STR,
    "tests/test_models.py::TestAccessTokenModel::test_str": _NO_CREDENTIAL_IN_STR,
    "tests/test_models.py::TestRefreshTokenModel::test_str": _NO_CREDENTIAL_IN_STR,
    "tests/test_oidc_views.py::test_token_deletion_on_logout_expired_session": Deviation(
        1517,
        "expects a confirmation page for a browser without a session at the provider; "
        "it is logged out at once",
    ),
    "tests/test_oidc_views.py::test_rp_initiated_logout_get_revoked_id_token": Deviation(
        1287,
        "expects 400 for an id_token_hint whose ID token was revoked; logout is idempotent, so the "
        "logged-in user is asked to confirm (upstream master, PR #1804)",
    ),
    "tests/test_rest_framework.py::TestOAuth2Authentication::test_scope_missing_scope_attr": (
        _NO_ASSERTION_FOR_OTHER_CREDENTIALS
    ),
    "tests/test_rest_framework.py::TestOAuth2Authentication::test_method_scope_alt_missing_scope_attr": (
        _NO_ASSERTION_FOR_OTHER_CREDENTIALS
    ),
    "tests/test_authorization_code.py::TestOIDCAuthorizationCodeHSAlgorithm::test_id_token": Deviation(
        1737,
        "verifies the HS256 ID token with the hashed client secret; "
        "it is signed with the cleartext secret the client authenticated with",
    ),
    "tests/test_models.py::test_application_key": Deviation(
        1737,
        "reads jwk_key of an HS256 application whose secret is stored hashed; a hash is no HMAC key, "
        "so there is none (ImproperlyConfigured)",
    ),
}

# node id -> why it needs the internet
NEEDS_INTERNET: dict[str, str] = {
    "tests/test_oauth2_validators.py::TestOAuth2ValidatorErrorResourceToken"
    "::test_response_when_auth_server_response_return_404": (
        "really POSTs to http://example.com/token/introspection/ and expects that server to answer 404"
    ),
}
