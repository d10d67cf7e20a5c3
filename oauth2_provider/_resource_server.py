"""A helper shared by the resource-server entry points: the view mixins, the view decorators, the
authentication backend and the Django REST framework authentication class."""

from django.core.exceptions import SuspiciousOperation


# oauthlib raises ValueError with this message when the query string has a malformed percent escape such
# as "%%7A": bad client input, not a server fault.
MALFORMED_QUERY_MESSAGE = "Invalid hex encoding in query string."


def verify_request(core, request, scopes):
    """``core.verify_request(request, scopes=scopes)``: (valid, oauthlib request).

    A malformed query string raises ``SuspiciousOperation``, which Django answers with a 400, instead of
    the ``ValueError`` (a 500) oauthlib raises. Any other ``ValueError`` is a bug and propagates.
    """
    try:
        return core.verify_request(request, scopes=scopes)
    except ValueError as error:
        if str(error) == MALFORMED_QUERY_MESSAGE:
            raise SuspiciousOperation(error) from error
        raise
