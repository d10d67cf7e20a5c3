"""The provider as a site behind PgBouncer in transaction pooling runs it: every query of the flows, of the
resource server and of ``cleartokens`` goes through a pool of two server connections, ten clients at once.

Each step of a client must succeed while the others' transactions interleave on the same two server
connections, so anything of ours that relied on a session (a server-side cursor outside a transaction, a
session setting, a prepared statement) shows up here as a failed request.
"""

import threading
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from oauth2_provider.models import get_access_token_model, get_application_model
from tests.flow_helpers import CLIENT_SECRET, basic_auth, post_token
from tests.pgbouncer import ALIAS, connect_this_thread


Application = get_application_model()
AccessToken = get_access_token_model()
CLIENTS = 10
PASSWORD = "pooled-owner-password"
EXPIRED = 40

pytestmark = pytest.mark.urls("tests.replica_urls")


@pytest.fixture
def site(bouncer, settings):
    """Two applications and a user, and a router that sends every query through the pool."""
    owner = get_user_model().objects.create_user(f"pooled-{uuid.uuid4().hex[:8]}", password=PASSWORD)
    apps = {
        grant: Application.objects.create(
            name=grant,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=grant,
            client_secret=CLIENT_SECRET,
            user=owner,
        )
        for grant in (Application.GRANT_CLIENT_CREDENTIALS, Application.GRANT_PASSWORD)
    }
    AccessToken.objects.bulk_create(
        AccessToken(token=f"expired-{number}", expires=timezone.now() - timedelta(days=1), scope="read")
        for number in range(EXPIRED)
    )
    settings.DATABASE_ROUTERS = ["tests.pgbouncer.ThroughBouncer"]
    settings.OAUTH2_PROVIDER = {"CLEAR_EXPIRED_TOKENS_BATCH_SIZE": 5}
    return apps, owner


def one_client(apps, owner):
    """Every step a client of the provider takes, with the status codes it got."""
    client = Client()
    service = basic_auth(apps[Application.GRANT_CLIENT_CREDENTIALS].client_id, CLIENT_SECRET)
    user_app = basic_auth(apps[Application.GRANT_PASSWORD].client_id, CLIENT_SECRET)
    issued = post_token(client, {"grant_type": "client_credentials"}, service)
    token = issued.json().get("access_token")
    used = client.get(reverse("resource"), HTTP_AUTHORIZATION=f"Bearer {token}")
    introspected = client.post(reverse("oauth2_provider:introspect"), {"token": token}, **service)
    data = {"grant_type": "password", "username": owner.username, "password": PASSWORD}
    pair = post_token(client, data, user_app).json()
    refreshed = post_token(
        client, {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}, user_app
    )
    revoked = client.post(reverse("oauth2_provider:revoke-token"), {"token": token}, **service)
    after = client.get(reverse("resource"), HTTP_AUTHORIZATION=f"Bearer {token}")
    return (
        issued.status_code,
        used.status_code,
        introspected.json().get("active"),
        refreshed.status_code,
        revoked.status_code,
        after.status_code,
    )


def test_every_flow_and_cleartokens_work_through_a_transaction_pool_of_two(site):
    apps, owner = site
    results, errors = [None] * CLIENTS, []
    start = threading.Barrier(CLIENTS + 1)

    def run(index):
        connect_this_thread()
        try:
            start.wait()
            results[index] = one_client(apps, owner)
        except Exception as error:  # reported below with the others' results
            errors.append(error)
        finally:
            connections[ALIAS].close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(CLIENTS)]
    for thread in threads:
        thread.start()
    start.wait()
    call_command("cleartokens")  # meanwhile, in committed windows of 5, through the same pool
    for thread in threads:
        thread.join()

    assert errors == []
    assert results == [(200, 200, True, 200, 200, 403)] * CLIENTS
    assert not AccessToken.objects.using(ALIAS).filter(token__startswith="expired-").exists()
