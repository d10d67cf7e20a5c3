"""Asking a remote authorization server about a token (RFC 7662), for ``OAuth2Validator``.

A resource server with ``RESOURCE_SERVER_INTROSPECTION_URL`` set sends the bearer tokens it does not know
to that server. Whatever goes wrong on the way (server down, slow, answering an error or garbage) means
"this token is not valid here", never an exception in the protected view.
"""

import base64
import http.client
import logging
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import requests
from django.conf import settings
from django.utils import timezone

from .settings import oauth2_settings
from .utils import get_timezone


log = logging.getLogger("oauth2_provider")


def authorization_headers(bearer_token, credentials):
    """How the resource server authenticates itself: a bearer token, else Basic ``(id, secret)``."""
    if bearer_token:
        return {"Authorization": f"Bearer {bearer_token}"}
    if credentials:
        client_id, client_secret = credentials
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")
        return {"Authorization": f"Basic {basic}"}
    return None


def introspect(url, token, headers):
    """The JSON object the server at ``url`` answers about ``token``, or None (the failure is logged)."""
    try:
        # A stalled server must not hold a worker for long (upstream PR #1832).
        response = requests.post(
            url,
            data={"token": token},
            headers=headers,
            timeout=oauth2_settings.RESOURCE_SERVER_INTROSPECTION_TIMEOUT_SECONDS,
        )
    except requests.exceptions.RequestException:
        log.exception("Introspection: Failed POST to %r in token lookup", url)
        return None
    if response.status_code != http.client.OK:
        # Upstream compatibility: logged through log.exception as DOT 3.0.1 does (hence a "NoneType:
        # None" traceback line), because its test suite matches the record.
        log.exception(
            "Introspection: Failed to get a valid response from authentication server. "
            "Status code: %s, Reason: %s.",
            response.status_code,
            getattr(response, "reason", ""),
        )
        return None
    content = _parsed_json(response)
    if isinstance(content, dict):
        return content
    if content is not None:
        log.error("Introspection: the response is JSON but not an object")
    return None


def _parsed_json(response):
    try:
        return response.json()
    except ValueError:
        log.exception("Introspection: Failed to parse response as json")
    return None


def cache_expiry(content):
    """Until when an introspected token is kept locally, or None when its ``exp`` is unusable.

    It is ``exp`` but at most ``RESOURCE_SERVER_TOKEN_CACHING_SECONDS`` from now (that long when there is
    no ``exp``). As DOT 3.0.1 does, the wall-clock time ``exp`` gives in UTC is read as a time in
    ``AUTHENTICATION_SERVER_EXP_TIME_ZONE`` ("UTC" by default, which leaves it unchanged), for servers
    that got the epoch wrong. The result is naive local time when the project runs with ``USE_TZ=False``.
    """
    now = datetime.now(dt_timezone.utc)
    latest = now + timedelta(seconds=oauth2_settings.RESOURCE_SERVER_TOKEN_CACHING_SECONDS)
    expires = latest
    if "exp" in content:
        exp = _exp_as_datetime(content["exp"])
        if exp is None:
            log.error("Introspection: unusable exp %r", content["exp"])
            return None
        expires = min(exp, latest)
    return expires if settings.USE_TZ else timezone.make_naive(expires)


def _exp_as_datetime(exp):
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return None
    try:
        utc_wall_clock = datetime.fromtimestamp(exp, dt_timezone.utc).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return None
    zone = get_timezone(oauth2_settings.AUTHENTICATION_SERVER_EXP_TIME_ZONE)
    return timezone.make_aware(utc_wall_clock, zone)
