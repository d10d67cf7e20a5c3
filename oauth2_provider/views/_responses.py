"""The Django response for an oauthlib endpoint's answer, shared by the token and OpenID Connect views."""

from django.http import HttpResponse


def oauthlib_response(headers, body, status):
    """An ``HttpResponse`` with the body, status and headers of an oauthlib endpoint's answer."""
    response = HttpResponse(content=body or "", status=status)
    for name, value in headers.items():
        response[name] = value
    return response
