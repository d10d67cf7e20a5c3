"""The bridge between Django's requests and responses and oauthlib's server.

oauthlib works on ``(uri, http_method, body, headers)`` and answers ``(headers, body, status)``;
``OAuthLibCore`` builds the first from an ``HttpRequest`` and hands the second back to the views,
which only wrap it into an ``HttpResponse``.
"""

import json
from urllib.parse import urlsplit, urlunsplit

from django.db import router, transaction
from django.http.multipartparser import MultiPartParserError
from oauthlib import oauth2
from oauthlib.common import Request as OauthlibRequest
from oauthlib.common import quote, urlencode, urlencoded
from oauthlib.uri_validate import is_absolute_uri

from ._request_values import is_unparsable_request_error
from .exceptions import FatalClientError, OAuthToolkitError
from .models import AbstractApplication
from .settings import _SECURE_REQUEST_HEADER, oauth2_settings


# META entries holding the WSGI streams: file objects, not headers.
_WSGI_STREAMS = ("wsgi.input", "wsgi.errors")


def _build_server(server_class, validator_class):
    """An oauthlib server of ``server_class`` answering through a new ``validator_class``."""
    return server_class(validator_class(), **oauth2_settings.server_kwargs)


def _parse_failure(uri, http_method, body, headers):
    """Why oauthlib cannot parse this request (its ``ValueError`` message), or None when it can."""
    try:
        OauthlibRequest(uri, http_method, body, headers)
    except ValueError as error:
        return str(error)
    return None


def _unparsable_authorization_request(uri, http_method, body, headers):
    """The ``FatalClientError`` for an authorization request oauthlib cannot parse, else None.

    Fatal, so that the user sees the error instead of being sent to a redirect URI nobody checked.
    """
    reason = _parse_failure(uri, http_method, body, headers)
    if reason is None:
        return None
    return FatalClientError(error=oauth2.InvalidRequestFatalError(description=reason))


# What oauthlib's grant handlers send with their own error responses (RFC 6749 section 5.1 and 5.2).
_ERROR_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}


def _error_answer(error):
    """The ``(location, headers, body, status)`` answer for an oauthlib error raised out of an endpoint.

    oauthlib raises some errors (URL query parameters on the token endpoint, for instance) before
    a grant handler could add its headers: the answer gets the same ones, so that every error body
    is served as the JSON it is.
    """
    return None, {**_ERROR_HEADERS, **error.headers}, error.json, error.status_code


def _in_token_transaction(endpoint):
    """``endpoint``, run in one transaction on the token database.

    oauthlib saves the tokens of an authorization code before it invalidates the code: when two requests
    redeem the same code at once, the one that fails to invalidate it answers ``invalid_grant`` after its
    tokens were saved. The exception that makes that answer leaves the transaction, which takes the
    tokens with it. An error that oauthlib answers without raising (a replayed refresh token, whose
    family the validator has just revoked) commits what was done.
    """

    def run(*args):
        # Imported here: the models need the app registry, and this module may be imported before it.
        from .models import get_access_token_model

        with transaction.atomic(using=router.db_for_write(get_access_token_model())):
            return endpoint(*args)

    return run


def _encodes_as_utf8(data):
    """Whether every string in ``data`` (parsed JSON) is valid Unicode.

    A JSON ``\\ud800`` escape decodes to a lone surrogate, which cannot be encoded for oauthlib.
    """
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class OAuthLibCore:
    """Runs an oauthlib server for Django requests.

    ``server`` defaults to ``OAUTH2_SERVER_CLASS`` (the OpenID Connect server when ``OIDC_ENABLED``)
    with an ``OAUTH2_VALIDATOR_CLASS`` instance and the settings' ``server_kwargs``.
    """

    def __init__(self, server=None):
        self.server = server or _build_server(
            oauth2_settings.OAUTH2_SERVER_CLASS, oauth2_settings.OAUTH2_VALIDATOR_CLASS
        )

    def _get_escaped_full_path(self, request):
        """The request's path and query, with the query characters oauthlib refuses percent-encoded.

        Django leaves characters such as ``[``, ``]`` or ``|`` unescaped in the query, while oauthlib
        accepts only the x-www-form-urlencoded alphabet and would raise a ``ValueError``.
        """
        parts = urlsplit(request.get_full_path())
        query = "".join(char if char in urlencoded else quote(char, safe=b"") for char in parts.query)
        return urlunsplit(parts._replace(query=query))

    def _get_extra_credentials(self, request):
        """Extra values merged into a successful token response; None (nothing) by default.

        Override it in a subclass (named in ``OAUTH2_BACKEND_CLASS``) to add fields computed from
        the Django request; see oauthlib's ``TokenEndpoint.create_token_response``.
        """
        return None

    def _extract_params(self, request):
        """``(uri, http_method, body, headers)`` for oauthlib; the body is re-encoded as a form."""
        uri = self._get_escaped_full_path(request)
        body = urlencode(self.extract_body(request))
        return uri, request.method, body, self.extract_headers(request)

    def extract_headers(self, request):
        """The request's META as oauthlib headers.

        oauthlib looks up ``Authorization`` and ``Origin`` (the latter for the token endpoint's CORS
        answer to an application's ``allowed_origins``) under their HTTP names, not their CGI ones.
        """
        headers = request.META.copy()
        for stream in _WSGI_STREAMS:
            headers.pop(stream, None)
        for cgi_name, http_name in (("HTTP_AUTHORIZATION", "Authorization"), ("HTTP_ORIGIN", "Origin")):
            if cgi_name in headers:
                headers[http_name] = headers[cgi_name]
        if request.is_secure():
            headers[_SECURE_REQUEST_HEADER] = "1"
        else:
            headers.pop(_SECURE_REQUEST_HEADER, None)
        return headers

    def extract_body(self, request):
        """The form parameters of the request body as ``(name, value)`` pairs.

        A multipart body Django cannot parse counts as empty, the way ``JSONOAuthLibCore`` treats
        invalid JSON: oauthlib then answers with the OAuth2 error for the missing parameters.
        """
        try:
            return request.POST.items()
        except MultiPartParserError:
            return ()

    def validate_authorization_request(self, request):
        """Check an authorization request; return ``(scopes, credentials)`` for the consent step.

        Raises ``FatalClientError`` when the client or redirect URI cannot be trusted (the error is
        shown to the user), ``OAuthToolkitError`` for an error to send back to the client.
        """
        uri, http_method, body, headers = self._extract_params(request)
        try:
            return self.server.validate_authorization_request(
                uri, http_method=http_method, body=body, headers=headers
            )
        except oauth2.FatalClientError as error:
            raise FatalClientError(error=error) from error
        except oauth2.OAuth2Error as error:
            raise OAuthToolkitError(error=error) from error
        except ValueError:
            error = _unparsable_authorization_request(uri, http_method, body, headers)
            if error is None:
                raise
            raise error from None

    def create_authorization_response(self, request, scopes, credentials, allow):
        """Answer an authorization request the user approved (``allow``) or denied.

        ``scopes`` is a list; ``credentials`` holds ``client_id``, ``redirect_uri``, ``response_type``,
        ``state`` and the optional PKCE/OpenID values. Returns ``(location, headers, body, status)``,
        raises ``FatalClientError`` or ``OAuthToolkitError`` carrying the client's redirect URI.
        """
        redirect_uri = credentials.get("redirect_uri")
        # The POSTed consent form is not an OAuth2 body: oauthlib gets the credentials instead.
        uri, http_method, _, headers = self._extract_params(request)
        try:
            if not allow:
                redirect_uri = self._denial_redirect_uri(uri, http_method, headers, credentials)
                raise oauth2.AccessDeniedError(state=credentials.get("state"))
            # The validator saves the grant or token for the user who answered.
            credentials["user"] = request.user
            response_headers, response_body, status = self.server.create_authorization_response(
                uri=uri, http_method=http_method, headers=headers, scopes=scopes, credentials=credentials
            )
        except oauth2.FatalClientError as error:
            raise FatalClientError(error=error, redirect_uri=redirect_uri) from error
        except oauth2.OAuth2Error as error:
            raise OAuthToolkitError(error=error, redirect_uri=redirect_uri) from error
        except ValueError:
            error = _unparsable_authorization_request(uri, http_method, None, headers)
            if error is None:
                raise
            raise error from None
        return response_headers.get("Location"), response_headers, response_body, status

    def _denial_redirect_uri(self, uri, http_method, headers, credentials):
        """Where the refusal of an authorization request may go: a redirect URI the client registered.

        A refusal never reaches oauthlib, which checks the client and its redirect URI only before it
        grants something; the consent form's hidden fields may have been tampered with. The validator
        answers the same questions here, so that a refusal is never redirected anywhere else. Raises
        oauthlib's fatal errors (the user sees them) for an unknown client or an unregistered URI.
        """
        validator = self.server.request_validator
        oauthlib_request = OauthlibRequest(uri, http_method, None, headers)
        client_id = credentials.get("client_id")
        if not validator.validate_client_id(client_id, oauthlib_request):
            raise oauth2.InvalidClientIdError(request=oauthlib_request)
        # Without one in the request, the client's default, as oauthlib would choose for a grant.
        redirect_uri = credentials.get("redirect_uri") or validator.get_default_redirect_uri(
            client_id, oauthlib_request
        )
        registered = (
            bool(redirect_uri)
            and is_absolute_uri(redirect_uri)
            and validator.validate_redirect_uri(client_id, redirect_uri, oauthlib_request)
        )
        if not registered:
            raise oauth2.MismatchingRedirectURIError(request=oauthlib_request)
        return redirect_uri

    def create_token_response(self, request):
        """The token endpoint's ``(location, headers, body, status)``; OAuth2 errors included.

        The endpoint runs in a transaction: a request that fails leaves no token behind.
        """
        uri, http_method, body, headers = self._extract_params(request)
        extra_credentials = self._get_extra_credentials(request)
        return self._answer(
            _in_token_transaction(self.server.create_token_response),
            uri,
            http_method,
            body,
            headers,
            extra_credentials,
        )

    def create_revocation_response(self, request):
        """The revocation endpoint's ``(location, headers, body, status)``."""
        return self._answer(self.server.create_revocation_response, *self._extract_params(request))

    def create_userinfo_response(self, request):
        """The OpenID Connect userinfo endpoint's ``(location, headers, body, status)``."""
        return self._answer(self.server.create_userinfo_response, *self._extract_params(request))

    def verify_request(self, request, scopes):
        """``(valid, oauthlib_request)``: does the request carry a token good for ``scopes``?

        A query oauthlib cannot parse raises its ``ValueError``, as in DOT 3.0.1; the resource-server
        entry points turn it into Django's ``SuspiciousOperation`` (see ``_resource_server``).
        """
        uri, http_method, body, headers = self._extract_params(request)
        return self.server.verify_request(uri, http_method, body, headers, scopes=scopes)

    def authenticate_client(self, request):
        """Whether the request authenticates a client that is not public (HTTP Basic or body credentials).

        A public client's secret ships with the client, so it proves nothing: such a client does not
        authenticate here (RFC 6749 section 2.1), where a view trusts the client (introspection, RFC 7662
        section 2.1, and other client-protected resources).
        """
        uri, http_method, body, headers = self._extract_params(request)
        try:
            oauthlib_request = OauthlibRequest(uri, http_method, body, headers)
        except ValueError:
            # A request oauthlib cannot even read authenticates nobody.
            return False
        if not self.server.request_validator.authenticate_client(oauthlib_request):
            return False
        return getattr(oauthlib_request.client, "client_type", None) != AbstractApplication.CLIENT_PUBLIC

    def _answer(self, endpoint, uri, http_method, body, headers, *args):
        """Call an oauthlib endpoint; its OAuth2 errors become the answer instead of propagating."""
        try:
            response_headers, response_body, status = endpoint(uri, http_method, body, headers, *args)
        except oauth2.OAuth2Error as error:
            return _error_answer(error)
        except ValueError as error:
            if not is_unparsable_request_error(error):
                raise
            return _error_answer(oauth2.InvalidRequestError(description=str(error)))
        return response_headers.get("Location"), response_headers, response_body, status


class JSONOAuthLibCore(OAuthLibCore):
    """An ``OAuthLibCore`` for clients that send ``application/json`` bodies instead of forms."""

    def extract_body(self, request):
        """The members of the JSON object in the body; anything else counts as an empty body.

        So does an object holding a string that is not valid Unicode: oauthlib then answers with the
        OAuth2 error for the missing parameters.
        """
        try:
            data = json.loads(request.body.decode("utf-8"))
        except ValueError:  # also UnicodeDecodeError
            return ()
        if not isinstance(data, dict) or not _encodes_as_utf8(data):
            return ()
        return data.items()


def get_oauthlib_core():
    """A new ``OAUTH2_BACKEND_CLASS`` around a server built from the settings."""
    server = _build_server(oauth2_settings.OAUTH2_SERVER_CLASS, oauth2_settings.OAUTH2_VALIDATOR_CLASS)
    return oauth2_settings.OAUTH2_BACKEND_CLASS(server)
