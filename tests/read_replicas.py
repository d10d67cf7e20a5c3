"""Read-your-writes behind a primary/replica router, against a real hot standby that lags.

Run by ``tox -e postgres`` through ``tests/replica_pair.py`` (a primary and a standby applying WAL
``DOT_TEST_REPLICA_DELAY_MS`` late, 2 s by default) with ``--ds=tests.settings_replica``. Every read the
router sends goes to the standby, which has not yet seen what the token endpoint has just written: a
token must work the moment it is issued anyway, from clients calling at once.
"""

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connections
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from oauth2_provider.models import get_access_token_model, get_application_model
from tests.flow_helpers import CLIENT_SECRET, basic_auth, post_token


Application = get_application_model()
CLIENTS = 10
OWNER_PASSWORD = "replica-owner-password"


@pytest.fixture(autouse=True)
def database(django_db_blocker):
    """The pair's own database, migrated once: no test database of pytest-django's on a read-only standby."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="session")
def migrated(django_db_blocker):
    with django_db_blocker.unblock():
        call_command("migrate", verbosity=0)
        applied = MigrationRecorder.Migration.objects.using("default").count()
        deadline = time.monotonic() + 60
        while _applied_on_replica() < applied:
            assert time.monotonic() < deadline, "the standby did not apply the migrations within 60 s"
            time.sleep(0.1)


def _applied_on_replica():
    try:
        return MigrationRecorder.Migration.objects.using("replica").count()
    except DatabaseError:  # not even the table yet
        return 0


def on_replica(model, **lookup):
    return model.objects.using("replica").filter(**lookup).exists()


def wait_for_replica(model, **lookup):
    """Wait until the standby has applied the row: the fixtures' rows are old news, as on a real site."""
    deadline = time.monotonic() + 60
    while not on_replica(model, **lookup):
        assert time.monotonic() < deadline, "the standby did not catch up within 60 s"
        time.sleep(0.1)


@pytest.fixture
def applications(migrated):
    """A client-credentials and a password application, and an end user, all on the standby already."""
    suffix = uuid.uuid4().hex[:8]
    owner = get_user_model().objects.create_user(f"owner-{suffix}", password=OWNER_PASSWORD)
    made = {
        grant: Application.objects.create(
            name=f"{grant} {suffix}",
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=grant,
            client_secret=CLIENT_SECRET,
            user=owner,
        )
        for grant in (Application.GRANT_CLIENT_CREDENTIALS, Application.GRANT_PASSWORD)
    }
    for application in made.values():
        wait_for_replica(Application, pk=application.pk)
    wait_for_replica(get_user_model(), pk=owner.pk)
    return made, owner


def at_once(work):
    """Run ``work(client)`` in CLIENTS threads at once, each with its own test client and connections."""
    results = [None] * CLIENTS
    start = threading.Barrier(CLIENTS)

    def one(index):
        try:
            start.wait()
            results[index] = work(Client())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one, args=(index,)) for index in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_the_standby_really_lags(applications):
    made, _ = applications
    service = made[Application.GRANT_CLIENT_CREDENTIALS]
    response = post_token(
        Client(), {"grant_type": "client_credentials"}, basic_auth(service.client_id, CLIENT_SECRET)
    )
    issued = response.json()["access_token"]
    # What the tests below rely on: the token just written is not on the standby yet.
    assert not on_replica(get_access_token_model(), token=issued)


def test_a_fresh_access_token_is_honoured_at_once(applications):
    made, _ = applications
    service = made[Application.GRANT_CLIENT_CREDENTIALS]

    def issue_then_use(client):
        response = post_token(
            client, {"grant_type": "client_credentials"}, basic_auth(service.client_id, CLIENT_SECRET)
        )
        assert response.status_code == 200, response.content
        token = response.json()["access_token"]
        used = client.get(reverse("resource"), HTTP_AUTHORIZATION=f"Bearer {token}")
        introspected = client.post(
            reverse("oauth2_provider:introspect"),
            {"token": token},
            **basic_auth(service.client_id, CLIENT_SECRET),
        )
        return used.status_code, introspected.status_code, introspected.json().get("active")

    results = at_once(issue_then_use)

    assert results == [(200, 200, True)] * CLIENTS


def test_a_fresh_refresh_token_is_accepted_at_once(applications):
    made, owner = applications
    password_app = made[Application.GRANT_PASSWORD]

    def issue_then_refresh(client):
        data = {"grant_type": "password", "username": owner.username, "password": OWNER_PASSWORD}
        response = post_token(client, data, basic_auth(password_app.client_id, CLIENT_SECRET))
        assert response.status_code == 200, response.content
        refresh_token = response.json()["refresh_token"]
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        refreshed = post_token(client, data, basic_auth(password_app.client_id, CLIENT_SECRET))
        return refreshed.status_code, refreshed.json().get("error")

    results = at_once(issue_then_refresh)

    assert results == [(200, None)] * CLIENTS


def test_a_revoked_token_is_refused_once_the_standby_has_the_revocation(applications):
    """What a lagging replica can do (docs/high_volume.rst): honour a revoked token for the lag, no longer."""
    made, _ = applications
    service = made[Application.GRANT_CLIENT_CREDENTIALS]
    client = Client()
    auth = basic_auth(service.client_id, CLIENT_SECRET)
    token = post_token(client, {"grant_type": "client_credentials"}, auth).json()["access_token"]
    wait_for_replica(get_access_token_model(), token=token)

    assert client.post(reverse("oauth2_provider:revoke-token"), {"token": token}, **auth).status_code == 200
    deadline = time.monotonic() + 60
    while on_replica(get_access_token_model(), token=token):
        assert time.monotonic() < deadline
        time.sleep(0.1)

    assert client.get(reverse("resource"), HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 403


EXPIRED = 20


def expired_tokens(applications):
    """A marker naming EXPIRED expired access tokens of the password application, on the standby too."""
    made, owner = applications
    marker = f"lag-{uuid.uuid4().hex[:8]}-"
    AccessToken = get_access_token_model()
    AccessToken.objects.bulk_create(
        AccessToken(
            token=f"{marker}{number}",
            expires=timezone.now() - timedelta(days=1),
            scope="read",
            application=made[Application.GRANT_PASSWORD],
            user=owner,
        )
        for number in range(EXPIRED)
    )
    wait_for_replica(AccessToken, token=f"{marker}{EXPIRED - 1}")
    return marker


def left(alias, marker):
    return get_access_token_model().objects.using(alias).filter(token__startswith=marker).count()


@pytest.mark.parametrize("paced", [True, False], ids=["paced", "unpaced"])
def test_each_page_of_cleartokens_waits_until_the_standby_has_the_one_before(applications, settings, paced):
    marker = expired_tokens(applications)
    # The standby applies each page 2 s late; pages come every 1.1 s, so an unpaced page overtakes it.
    settings.OAUTH2_PROVIDER = {
        "CLEAR_EXPIRED_TOKENS_BATCH_SIZE": 5,
        "CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL": 1.1,
        "REPLICA_LAG_DATABASES": ["replica"] if paced else [],
        "REPLICA_LAG_MAX_SECONDS": 0.5,
    }
    seen = []

    def before_each_page(execute, sql, params, many, context):
        if sql.startswith('DELETE FROM "oauth2_provider_accesstoken"'):
            seen.append((left("default", marker), left("replica", marker)))
        return execute(sql, params, many, context)

    with connections["default"].execute_wrapper(before_each_page):
        call_command("cleartokens")

    assert left("default", marker) == 0
    assert len(seen) >= EXPIRED // 5
    behind = [(primary, standby) for primary, standby in seen if standby != primary]
    if paced:
        assert behind == []
    else:
        assert behind, "an unpaced page should have started before the standby had the one before"


def test_cleartokens_refuses_a_replica_that_is_none_before_deleting_anything(applications, settings):
    marker = expired_tokens(applications)
    settings.OAUTH2_PROVIDER = {"REPLICA_LAG_DATABASES": ["default"]}

    with pytest.raises(CommandError, match="'default' is not a replica"):
        call_command("cleartokens")

    assert left("default", marker) == EXPIRED
