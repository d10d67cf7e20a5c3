"""Exceptions raised by the provider's views and helpers."""


class OAuthToolkitError(Exception):
    """Carries an oauthlib error (``oauthlib_error``) up to the view that turns it into a response.

    A ``redirect_uri``, when given, is set on the oauthlib error so that the response can send
    the user agent back to the client with the error.
    """

    def __init__(self, error=None, redirect_uri=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.oauthlib_error = error
        if redirect_uri:
            self.oauthlib_error.redirect_uri = redirect_uri


class FatalClientError(OAuthToolkitError):
    """An error shown to the user: the client cannot be trusted with a redirect (bad client or URI)."""


class OIDCError(Exception):
    """Base of the OpenID Connect errors; ``str()`` reads ``(<error>) <description>``.

    Subclasses set ``error`` and a default ``description``; a ``description`` given to the
    constructor replaces the default for that instance.
    """

    status_code = 400
    error = None

    def __init__(self, description=None):
        if description is not None:
            self.description = description
        super().__init__(f"({self.error}) {self.description}")


class InvalidRequestFatalError(OIDCError):
    """The request is malformed or lacks a parameter; it is answered directly, never redirected."""

    error = "invalid_request"


class ClientIdMissmatch(InvalidRequestFatalError):
    description = "Mismatch between the Client ID of the ID Token and the Client ID that was provided."


class InvalidOIDCClientError(InvalidRequestFatalError):
    description = "The client is unknown or no client has been included."


class InvalidOIDCRedirectURIError(InvalidRequestFatalError):
    description = "Invalid post logout redirect URI."


class InvalidIDTokenError(InvalidRequestFatalError):
    description = "The ID Token is expired, revoked, malformed, or otherwise invalid."


class LogoutDenied(OIDCError):
    error = "logout_denied"
    description = "Logout has been refused by the user."
