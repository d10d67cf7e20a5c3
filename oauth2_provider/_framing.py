"""Pages of ours that a hostile site must not frame (clickjacking, RFC 9700 section 4.16)."""

from functools import wraps

from django.views.decorators.clickjacking import xframe_options_deny


def deny_framing(view):
    """``view`` with its responses forbidden in any frame: ``X-Frame-Options: DENY`` and, unless the
    project sets a Content Security Policy of its own, ``frame-ancestors 'none'``.

    A page where one click grants a client access or ends a session must not be framed, whether or not
    the project enabled Django's ``XFrameOptionsMiddleware``. That middleware leaves a header a view set
    alone, so a project's ``SAMEORIGIN`` default does not weaken these pages.
    """

    @wraps(view)
    def framing_denied(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        return response

    return xframe_options_deny(framing_denied)
