"""Whether a credential this provider issued may still be honoured: one verdict for every view of it.

The bearer check (views, decorators, middleware, the authentication backend, Django REST framework,
UserInfo, an ID token used as a bearer token), introspection, the refresh grant and the redemption of an
authorization code all ask here, so that a token refused by one is not honoured by another. A token's own
validity (expiry, scopes, revocation) is each model's business; this is about the parties behind it.
"""

from django.contrib.auth import get_backends


def is_honoured(application, user, request):
    """Whether a credential of ``application`` for ``user`` may be honoured now.

    Not when the application answers ``is_usable(request)`` with no (upstream #1260), nor when its user may
    no longer sign in (see ``user_may_be_served``). ``application`` or ``user`` may be None: a token from
    remote introspection has no local application, a client-credentials token no user. ``request`` is the
    oauthlib request of the credential's use, None at introspection, where a resource server asks.
    """
    if application is not None and not application.is_usable(request):
        return False
    return user is None or user_may_be_served(user)


def user_may_be_served(user):
    """Whether tokens may still act for ``user``, by Django's own rule for who may sign in.

    An active user may (``is_active``, or a user model without it, as Django's ``ModelBackend`` reads
    it). An inactive one only when an authentication backend of the project would let him sign in: its
    ``user_can_authenticate(user)`` says so, as Django's ``AllowAllUsersModelBackend`` does. A project
    that serves inactive users has said so there; any other must not have a deactivated account's
    tokens outlive the deactivation.
    """
    if getattr(user, "is_active", True):
        return True
    return any(_backend_lets_sign_in(backend, user) for backend in get_backends())


def _backend_lets_sign_in(backend, user):
    user_can_authenticate = getattr(backend, "user_can_authenticate", None)
    return user_can_authenticate is not None and user_can_authenticate(user)
