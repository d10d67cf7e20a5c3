"""URIValidator (URLs with custom schemes and dotless hosts) and AllowedURIValidator (per-use rules)."""

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from oauth2_provider.validators import AllowedURIValidator, URIValidator


TEN_KB_PATH = "/" + "a" * 10 * 1024


def messages_of(validate, value):
    """The validation messages for ``value`` (empty when it is valid)."""
    try:
        validate(value)
    except ValidationError as error:
        return error.messages
    return []


@pytest.mark.parametrize(
    "uri",
    [
        "https://client.example/callback",
        "http://client.example:8000/cb?state=1#frag",
        "http://localhost/cb",
        "http://intranet/cb",
        "http://intranet:8080",
        "http://my_service:8000/cb",
        "http://new_example.com",
        "http://127.0.0.1:8000/cb",
        "http://[::1]:8080/cb",
        "http://[2001:db8::1]/cb",
        "HTTPS://CLIENT.EXAMPLE/",
    ],
)
def test_uri_validator_accepts_urls(uri):
    assert messages_of(URIValidator(), uri) == []


def test_uri_validator_accepts_dotless_hosts_that_django_refuses():
    assert messages_of(URLValidator(), "http://intranet/cb") == ["Enter a valid URL."]
    assert messages_of(URIValidator(), "http://intranet/cb") == []


@pytest.mark.parametrize(
    ("scheme", "uri"),
    [
        ("myapp", "myapp://callback"),
        ("com.example.app", "com.example.app://oauth/redirect"),
        ("x-app+v2", "x-app+v2://host/path"),
    ],
)
def test_uri_validator_accepts_custom_schemes_it_is_given(scheme, uri):
    assert messages_of(URIValidator(schemes=[scheme]), uri) == []
    assert messages_of(URIValidator(), uri) == ["Enter a valid URL."]


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "http://",
        "http:///path",
        "http:// client.example/",
        " http://client.example/",
        "http://client.example/\ncb",
        "not a uri",
        "//client.example/cb",
        "http://-client/cb",
        "http://[::1/cb",
        "1http://client.example/",
        "http://client.example" + TEN_KB_PATH,
        "http://" + "a." * 5000 + "example",
    ],
)
def test_uri_validator_refuses_malformed_uris(uri):
    assert messages_of(URIValidator(), uri) == ["Enter a valid URL."]


# A valid prefix followed by junk: unanchored, the pattern matched the prefix and accepted the whole value.
JUNK_AFTER_A_VALID_PREFIX = [
    "https://client.example<script>alert(1)</script>",
    'https://client.example"onmouseover="alert(1)',
    "https://client.example:80x/cb",
    "https://client.example\\evil.example/cb",
    "https://client.example/cb extra",
]


@pytest.mark.parametrize("uri", JUNK_AFTER_A_VALID_PREFIX)
def test_uri_validator_refuses_junk_after_a_valid_prefix(uri):
    assert messages_of(URIValidator(), uri) == ["Enter a valid URL."]


@pytest.mark.parametrize("uri", JUNK_AFTER_A_VALID_PREFIX)
def test_redirect_uri_with_junk_after_a_valid_prefix_cannot_be_registered(redirect_uri_validator, uri):
    assert messages_of(redirect_uri_validator, uri) == [
        f"redirect uri URI validation error. ['Enter a valid URL.']: {uri}"
    ]


@pytest.mark.parametrize("value", [None, 42, b"http://client.example/", ["http://client.example/"]])
def test_uri_validator_refuses_non_strings(value):
    assert messages_of(URIValidator(), value) == ["Enter a valid URL."]


@pytest.fixture
def redirect_uri_validator():
    return AllowedURIValidator(["https", "myapp"], "redirect uri", allow_path=True, allow_query=True)


@pytest.fixture
def origin_validator():
    return AllowedURIValidator(["https"], "origin")


@pytest.mark.parametrize(
    "uri",
    [
        "https://client.example/cb?x=1",
        "https://client.example",
        "myapp://callback/path",
        "https://intranet:8443/cb",
        "https://[::1]/cb",
        "HTTPS://client.example/cb",
    ],
)
def test_allowed_uri_validator_accepts_uris_within_its_rules(redirect_uri_validator, uri):
    assert messages_of(redirect_uri_validator, uri) == []


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (
            "http://client.example/cb",
            "redirect uri URI Validation error. invalid_scheme: http://client.example/cb",
        ),
        ("other://callback", "redirect uri URI Validation error. invalid_scheme: other://callback"),
        ("client.example/cb", "redirect uri URI Validation error. invalid_scheme: client.example/cb"),
        (
            "https://client.example/cb#frag",
            "redirect uri URI validation error. fragment not allowed: https://client.example/cb#frag",
        ),
        ("https://", "redirect uri URI validation error. ['Enter a valid URL.']: https://"),
        ("https://[::1/cb", "redirect uri URI validation error. Invalid IPv6 URL: https://[::1/cb"),
    ],
)
def test_allowed_uri_validator_names_the_uri_and_the_cause(redirect_uri_validator, uri, message):
    assert messages_of(redirect_uri_validator, uri) == [message]


@pytest.mark.parametrize(
    ("uri", "cause"),
    [
        ("https://client.example/", "path not allowed"),
        ("https://client.example/cb", "path not allowed"),
        ("https://client.example?x=1", "query string not allowed"),
        ("https://client.example/?x=1", "query string not allowed"),
        ("https://client.example#top", "fragment not allowed"),
    ],
)
def test_allowed_uri_validator_refuses_parts_it_does_not_allow(origin_validator, uri, cause):
    assert messages_of(origin_validator, uri) == [f"origin URI validation error. {cause}: {uri}"]


def test_allowed_uri_validator_accepts_each_part_it_allows():
    validate = AllowedURIValidator(["https"], "uri", allow_path=True, allow_query=True, allow_fragments=True)
    assert messages_of(validate, "https://client.example/cb?x=1#top") == []


def test_allowed_uri_validator_refuses_a_10kb_uri(redirect_uri_validator):
    uri = "https://client.example" + TEN_KB_PATH
    assert messages_of(redirect_uri_validator, uri) == [
        f"redirect uri URI validation error. ['Enter a valid URL.']: {uri}"
    ]


@pytest.mark.parametrize("value", [None, 42])
def test_allowed_uri_validator_refuses_non_strings(redirect_uri_validator, value):
    # The value is turned into text first, which then has no scheme.
    assert messages_of(redirect_uri_validator, value) == [
        f"redirect uri URI Validation error. invalid_scheme: {value}"
    ]


# Upstream 3.4.1: a bare "#" or "?" is a fragment or query too, however empty


@pytest.mark.parametrize(
    ("uri", "cause"),
    [
        ("https://client.example#", "fragment not allowed"),
        ("https://client.example?", "query string not allowed"),
        ("https://client.example?#", "query string not allowed"),
    ],
)
def test_a_bare_delimiter_counts_as_the_part_it_opens(origin_validator, uri, cause):
    assert messages_of(origin_validator, uri) == [f"origin URI validation error. {cause}: {uri}"]


def test_a_bare_fragment_delimiter_is_no_redirect_uri(redirect_uri_validator):
    uri = "https://client.example/cb#"
    assert messages_of(redirect_uri_validator, uri) == [
        f"redirect uri URI validation error. fragment not allowed: {uri}"
    ]


@pytest.mark.parametrize("uri", ["https://client.example/cb%23", "https://client.example/cb%3F"])
def test_escaped_delimiters_are_part_of_the_path(origin_validator, uri):
    validate = AllowedURIValidator(["https"], "uri", allow_path=True)
    assert messages_of(validate, uri) == []


def test_a_question_mark_inside_the_fragment_opens_no_query():
    validate = AllowedURIValidator(["https"], "uri", allow_fragments=True)
    assert messages_of(validate, "https://client.example#a?b") == []


# RFC 8252 section 7.1: private-use URI scheme redirects, "com.example.app:/oauth2redirect"


@pytest.fixture
def native_app_validator():
    return AllowedURIValidator(["com.example.app"], "redirect uri", allow_path=True, allow_query=True)


@pytest.mark.parametrize(
    "uri",
    [
        "com.example.app:/oauth2redirect/example-provider",
        "com.example.app:/",
        "COM.EXAMPLE.APP:/oauth2redirect",
        "com.example.app:/oauth2redirect?tab=1",
        "com.example.app://oauth2redirect",
    ],
)
def test_private_use_redirect_uris_are_accepted(native_app_validator, uri):
    assert messages_of(native_app_validator, uri) == []


@pytest.mark.parametrize(
    "uri",
    [
        "com.example.app:",
        "com.example.app://",
        "com.example.app:///oauth2redirect",
        "com.example.app:oauth2redirect",
        "com.example.app:/oauth2 redirect",
        "com.example.app:/oauth2redirect#frag",
        "com.other.app:/oauth2redirect",
    ],
)
def test_other_spellings_of_private_use_uris_are_refused(native_app_validator, uri):
    assert len(messages_of(native_app_validator, uri)) == 1


@pytest.mark.parametrize("uri", ["https:/client.example", "http:/client.example/cb"])
def test_web_schemes_still_need_a_host(uri):
    validate = AllowedURIValidator(["https", "http"], "redirect uri", allow_path=True)
    assert messages_of(validate, uri) == [f"redirect uri URI validation error. ['Enter a valid URL.']: {uri}"]


def test_a_private_use_uri_is_no_origin():
    validate = AllowedURIValidator(["com.example.app"], "origin")
    uri = "com.example.app:/oauth2redirect"
    assert messages_of(validate, uri) == [f"origin URI validation error. path not allowed: {uri}"]
