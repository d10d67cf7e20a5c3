"""clear_expired() on large tables: which rows go, FK integrity, batches, receivers, interruptions.

The fixture below builds one row per case that clear_expired() tells apart; EXPECTED says, row by
row, whether it survives a run with and without a refresh token lifetime. The lifetime is one hour.

The token models are the configured ones, not imported by name: test_cleartokens_swapped.py runs
these tests again with the token models swapped for a test app's.
"""

import contextlib
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.db.models import signals
from django.utils import timezone

from oauth2_provider import _batching, _cleartokens
from oauth2_provider import models as oauth2_models
from oauth2_provider.models import clear_expired


AccessToken, RefreshToken, IDToken, Grant, Application = (
    oauth2_models.get_access_token_model(),
    oauth2_models.get_refresh_token_model(),
    oauth2_models.get_id_token_model(),
    oauth2_models.get_grant_model(),
    oauth2_models.get_application_model(),
)


HOUR = timedelta(hours=1)
LIFETIME = {"REFRESH_TOKEN_EXPIRE_SECONDS": 3600}

KEPT, DELETED = "kept", "deleted"

# name: (outcome with REFRESH_TOKEN_EXPIRE_SECONDS = 1 hour, outcome without it); no grace period, no
# reuse protection.
EXPECTED = {
    "at-valid": (KEPT, KEPT),
    "at-expired": (DELETED, DELETED),
    "at-valid-with-rt": (KEPT, KEPT),
    "rt-of-valid-at": (KEPT, KEPT),
    "at-expired-recently-with-rt": (KEPT, KEPT),
    "rt-of-recently-expired-at": (KEPT, KEPT),
    "at-expired-long-ago-with-rt": (DELETED, KEPT),
    "rt-of-long-expired-at": (DELETED, KEPT),
    "id-of-long-expired-at": (DELETED, KEPT),
    "rt-revoked-long-ago": (DELETED, DELETED),
    "at-refreshed-from-rt-revoked-long-ago": (KEPT, KEPT),
    "rt-revoked-recently": (DELETED, DELETED),
    "rt-revoked-recently-created-long-ago": (DELETED, DELETED),
    "rt-stranded-created-long-ago": (DELETED, DELETED),
    "rt-stranded-created-recently": (DELETED, DELETED),
    "id-expired-without-at": (DELETED, DELETED),
    "id-valid-without-at": (KEPT, KEPT),
    "id-expired-of-valid-at": (KEPT, KEPT),
    "at-valid-with-expired-id": (KEPT, KEPT),
    "id-expired-of-expired-at": (DELETED, DELETED),
    "at-expired-with-expired-id": (DELETED, DELETED),
    "id-valid-of-expired-at": (KEPT, KEPT),
    "at-expired-with-valid-id": (DELETED, DELETED),
    "grant-expired": (DELETED, DELETED),
    "grant-valid": (KEPT, KEPT),
}

# The rows DOT 3.0.1 keeps and we delete, as upstream 3.4.1 does (upstream #746, PR #1787): refresh tokens
# without an access token, and revoked ones past the grace period even without a lifetime.
STRANDED = {"rt-stranded-created-long-ago", "rt-stranded-created-recently"}
REVOKED = {"rt-revoked-long-ago", "rt-revoked-recently", "rt-revoked-recently-created-long-ago"}
DELETED_SINCE_341 = {
    "refresh-lifetime": STRANDED | {"rt-revoked-recently", "rt-revoked-recently-created-long-ago"},
    "no-refresh-lifetime": STRANDED | REVOKED,
}


def in_(delta):
    return timezone.now() + delta


@pytest.fixture
def owner(db):
    user = get_user_model().objects.create_user("alice", "alice@example.com", "password")
    application = Application.objects.create(
        name="client",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://client.example/cb",
    )
    return user, application


@pytest.fixture
def make(owner):
    """Row factories sharing one user and application."""
    user, application = owner

    class Make:
        @staticmethod
        def access_token(name, expires, **fields):
            return AccessToken.objects.create(
                token=name, expires=expires, user=user, application=application, **fields
            )

        @staticmethod
        def refresh_token(name, access_token=None, revoked=None, created=None):
            row = RefreshToken.objects.create(
                token=name, user=user, application=application, access_token=access_token, revoked=revoked
            )
            if created:  # auto_now_add ignores a value given to create()
                RefreshToken.objects.filter(pk=row.pk).update(created=created)
            return row

        @staticmethod
        def id_token(expires):
            return IDToken.objects.create(user=user, application=application, expires=expires)

        @staticmethod
        def grant(name, expires):
            return Grant.objects.create(
                code=name,
                user=user,
                application=application,
                expires=expires,
                redirect_uri="https://c.example/",
            )

    return Make


@pytest.fixture
def scenario(make):
    """Every row of EXPECTED, by name."""
    rows = {}
    rows["at-valid"] = make.access_token("at-valid", in_(HOUR))
    rows["at-expired"] = make.access_token("at-expired", in_(-timedelta(minutes=1)))
    rows["at-valid-with-rt"] = make.access_token("at-valid-with-rt", in_(HOUR))
    rows["rt-of-valid-at"] = make.refresh_token("rt-of-valid-at", rows["at-valid-with-rt"])
    rows["at-expired-recently-with-rt"] = make.access_token("at-expired-recently-with-rt", in_(-HOUR / 2))
    rows["rt-of-recently-expired-at"] = make.refresh_token(
        "rt-of-recently-expired-at", rows["at-expired-recently-with-rt"], created=in_(-2 * HOUR)
    )
    rows["id-of-long-expired-at"] = make.id_token(in_(-2 * HOUR))
    rows["at-expired-long-ago-with-rt"] = make.access_token(
        "at-expired-long-ago-with-rt", in_(-2 * HOUR), id_token=rows["id-of-long-expired-at"]
    )
    rows["rt-of-long-expired-at"] = make.refresh_token(
        "rt-of-long-expired-at", rows["at-expired-long-ago-with-rt"]
    )
    rows["rt-revoked-long-ago"] = make.refresh_token("rt-revoked-long-ago", revoked=in_(-2 * HOUR))
    rows["at-refreshed-from-rt-revoked-long-ago"] = make.access_token(
        "at-refreshed-from-rt-revoked-long-ago", in_(HOUR), source_refresh_token=rows["rt-revoked-long-ago"]
    )
    rows["rt-revoked-recently"] = make.refresh_token("rt-revoked-recently", revoked=in_(-HOUR / 6))
    rows["rt-revoked-recently-created-long-ago"] = make.refresh_token(
        "rt-revoked-recently-created-long-ago", revoked=in_(-HOUR / 6), created=in_(-3 * HOUR)
    )
    rows["rt-stranded-created-long-ago"] = make.refresh_token(
        "rt-stranded-created-long-ago", created=in_(-2 * HOUR)
    )
    rows["rt-stranded-created-recently"] = make.refresh_token(
        "rt-stranded-created-recently", created=in_(-HOUR / 6)
    )
    rows["id-expired-without-at"] = make.id_token(in_(-HOUR))
    rows["id-valid-without-at"] = make.id_token(in_(HOUR))
    rows["id-expired-of-valid-at"] = make.id_token(in_(-HOUR))
    rows["at-valid-with-expired-id"] = make.access_token(
        "at-valid-with-expired-id", in_(HOUR), id_token=rows["id-expired-of-valid-at"]
    )
    rows["id-expired-of-expired-at"] = make.id_token(in_(-HOUR))
    rows["at-expired-with-expired-id"] = make.access_token(
        "at-expired-with-expired-id", in_(-HOUR), id_token=rows["id-expired-of-expired-at"]
    )
    rows["id-valid-of-expired-at"] = make.id_token(in_(HOUR))
    rows["at-expired-with-valid-id"] = make.access_token(
        "at-expired-with-valid-id", in_(-HOUR), id_token=rows["id-valid-of-expired-at"]
    )
    rows["grant-expired"] = make.grant("grant-expired", in_(-timedelta(seconds=1)))
    rows["grant-valid"] = make.grant("grant-valid", in_(timedelta(minutes=1)))
    assert set(rows) == set(EXPECTED)
    return rows


def surviving(rows):
    return {name for name, row in rows.items() if type(row).objects.filter(pk=row.pk).exists()}


def reverse_name(model, field_name):
    """The name by which ``model``'s relation ``field_name`` filters from the other side."""
    return model._meta.get_field(field_name).related_query_name()


def expected_survivors(with_lifetime):
    column = 0 if with_lifetime else 1
    return {name for name, outcomes in EXPECTED.items() if outcomes[column] == KEPT}


def dangling_references():
    """Foreign keys between token tables that point to a row that does not exist, by field.

    The database checks its own constraints first (PostgreSQL defers them to the commit otherwise).
    """
    connection.check_constraints()
    return {
        "RefreshToken.access_token": RefreshToken.objects.filter(access_token_id__isnull=False)
        .exclude(access_token_id__in=AccessToken.objects.values("pk"))
        .count(),
        "AccessToken.source_refresh_token": AccessToken.objects.filter(source_refresh_token_id__isnull=False)
        .exclude(source_refresh_token_id__in=RefreshToken.objects.values("pk"))
        .count(),
        "AccessToken.id_token": AccessToken.objects.filter(id_token_id__isnull=False)
        .exclude(id_token_id__in=IDToken.objects.values("pk"))
        .count(),
    }


NO_DANGLING = {
    "RefreshToken.access_token": 0,
    "AccessToken.source_refresh_token": 0,
    "AccessToken.id_token": 0,
}


def clear_expired_as_dot_301(now):
    """DOT 3.0.1's choice of rows, stated as plain ORM deletes: the oracle for the comparison test."""
    cutoff = _cleartokens.refresh_token_cutoff(now)
    if cutoff:
        RefreshToken.objects.filter(revoked__lt=cutoff).delete()
        RefreshToken.objects.filter(access_token__expires__lt=cutoff).delete()
    without_refresh_token = {f"{reverse_name(RefreshToken, 'access_token')}__isnull": True}
    AccessToken.objects.filter(expires__lt=now, **without_refresh_token).delete()
    without_access_token = {f"{reverse_name(AccessToken, 'id_token')}__isnull": True}
    IDToken.objects.filter(expires__lt=now, **without_access_token).delete()
    Grant.objects.filter(expires__lt=now).delete()


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 3, 10000])
def test_with_refresh_lifetime_exactly_the_expected_rows_go(settings, scenario, batch_size):
    settings.OAUTH2_PROVIDER = {**LIFETIME, "CLEAR_EXPIRED_TOKENS_BATCH_SIZE": batch_size}
    clear_expired()
    assert surviving(scenario) == expected_survivors(with_lifetime=True)
    assert dangling_references() == NO_DANGLING
    refreshed = AccessToken.objects.get(pk=scenario["at-refreshed-from-rt-revoked-long-ago"].pk)
    assert refreshed.source_refresh_token_id is None


@pytest.mark.django_db
def test_without_refresh_lifetime_only_revoked_and_stranded_refresh_tokens_go(scenario):
    clear_expired()
    assert surviving(scenario) == expected_survivors(with_lifetime=False)
    assert dangling_references() == NO_DANGLING


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lifetime", "revoked_kept"),
    [(LIFETIME, {"rt-revoked-recently", "rt-revoked-recently-created-long-ago"}), ({}, REVOKED)],
    ids=["refresh-lifetime", "no-refresh-lifetime"],
)
def test_reuse_protection_keeps_revoked_refresh_tokens_for_the_lifetime(
    settings, scenario, lifetime, revoked_kept
):
    """A replay is recognised by its revoked row: it must outlive the grace period, until the lifetime."""
    settings.OAUTH2_PROVIDER = {**lifetime, "REFRESH_TOKEN_REUSE_PROTECTION": True}
    clear_expired()
    assert surviving(scenario) & REVOKED == revoked_kept


@pytest.mark.django_db
@pytest.mark.parametrize("grace_period", [None, 0])
def test_without_a_grace_period_revoked_refresh_tokens_go_at_once(settings, scenario, grace_period):
    settings.OAUTH2_PROVIDER = {"REFRESH_TOKEN_GRACE_PERIOD_SECONDS": grace_period}
    clear_expired()
    assert not surviving(scenario) & REVOKED


@pytest.mark.django_db
def test_revoked_refresh_tokens_go_once_the_grace_period_is_over(settings, scenario):
    settings.OAUTH2_PROVIDER = {"REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 30 * 60}
    clear_expired()
    assert surviving(scenario) & REVOKED == {"rt-revoked-recently", "rt-revoked-recently-created-long-ago"}


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["half an hour", -1])
def test_a_bad_grace_period_is_improperly_configured(settings, value):
    settings.OAUTH2_PROVIDER = {"REFRESH_TOKEN_GRACE_PERIOD_SECONDS": value}
    with pytest.raises(ImproperlyConfigured, match="^REFRESH_TOKEN_GRACE_PERIOD_SECONDS must"):
        clear_expired()


@pytest.mark.django_db
@pytest.mark.parametrize("lifetime", [LIFETIME, {}], ids=["refresh-lifetime", "no-refresh-lifetime"])
def test_same_rows_as_dot_301_except_the_refresh_tokens_341_deletes(settings, scenario, lifetime):
    settings.OAUTH2_PROVIDER = lifetime
    with transaction.atomic():
        clear_expired_as_dot_301(timezone.now())
        upstream = surviving(scenario)
        transaction.set_rollback(True)
    assert surviving(scenario) == set(scenario)
    clear_expired()
    fixed = DELETED_SINCE_341["refresh-lifetime" if lifetime else "no-refresh-lifetime"]
    assert surviving(scenario) == upstream - fixed
    assert fixed <= upstream


def statements_on(table, verb):
    """An execute wrapper recording (sql, rows affected) of the ``verb`` statements on ``table``."""
    seen = []

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.lstrip().upper().startswith(verb) and table in sql:
            seen.append((sql, context["cursor"].rowcount))
        return result

    return seen, wrapper


@pytest.mark.django_db
def test_each_delete_removes_at_most_a_batch_and_nothing_counts_the_table(settings, make):
    settings.OAUTH2_PROVIDER = {"CLEAR_EXPIRED_TOKENS_BATCH_SIZE": 2}
    for number in range(7):
        make.access_token(f"expired-{number}", in_(-HOUR))
        make.access_token(f"valid-{number}", in_(HOUR))
    deletes, wrapper = statements_on(AccessToken._meta.db_table, "DELETE")
    counts, count_wrapper = statements_on("COUNT(", "SELECT")
    with connection.execute_wrapper(wrapper), connection.execute_wrapper(count_wrapper):
        clear_expired()
    assert [rows for _, rows in deletes if rows] and all(rows <= 2 for _, rows in deletes)
    assert sum(rows for _, rows in deletes) == 7
    assert counts == []
    assert sorted(AccessToken.objects.values_list("token", flat=True)) == [f"valid-{n}" for n in range(7)]


def statements_with_params():
    """An execute wrapper recording (sql, params) of every statement."""
    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append((sql, params or ()))
        return execute(sql, params, many, context)

    return seen, wrapper


def values_sent(params):
    """How many values ``params`` carry, counting each element of a list (PostgreSQL's arrays)."""
    return sum(len(value) if isinstance(value, (list, tuple)) else 1 for value in params)


@pytest.mark.django_db
def test_a_window_nothing_points_into_is_one_delete_without_its_primary_keys(settings, make):
    settings.OAUTH2_PROVIDER = {"CLEAR_EXPIRED_TOKENS_BATCH_SIZE": 50}
    for number in range(120):
        make.access_token(f"expired-{number}", in_(-HOUR))
    for number in range(5):
        make.access_token(f"valid-{number}", in_(HOUR))
    seen, wrapper = statements_with_params()
    with connection.execute_wrapper(wrapper):
        clear_expired()
    table = connection.ops.quote_name(AccessToken._meta.db_table)
    deletes = [sql for sql, _ in seen if sql.startswith(f"DELETE FROM {table} ")]
    assert len(deletes) == 3  # windows of 50, 50 and the open-ended rest
    assert max(values_sent(params) for _, params in seen) < 10
    assert sorted(AccessToken.objects.values_list("token", flat=True)) == [f"valid-{n}" for n in range(5)]


@pytest.mark.django_db
def test_access_tokens_with_a_refresh_token_are_never_looked_up_for_a_clean_up(make):
    """The condition keeps every access token a refresh token points to: nothing is left to clear."""
    for number in range(4):
        make.access_token(f"expired-{number}", in_(-HOUR))
        make.refresh_token(f"rt-{number}", make.access_token(f"valid-{number}", in_(HOUR)))
    refresh_table = RefreshToken._meta.db_table
    seen, wrapper = statements_with_params()
    without_refresh_token = {f"{reverse_name(RefreshToken, 'access_token')}__isnull": True}
    with connection.execute_wrapper(wrapper):
        deleted = _cleartokens.delete_matching(
            AccessToken, models.Q(expires__lt=timezone.now(), **without_refresh_token)
        )
    assert deleted == 4
    assert [sql for sql, _ in seen if refresh_table in sql and not sql.startswith("DELETE")] == []
    assert sorted(RefreshToken.objects.values_list("access_token__token", flat=True)) == [
        f"valid-{n}" for n in range(4)
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner settings")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("in_callers_transaction", [False, True])
def test_postgresql_planner_settings_do_not_outlive_the_walk(settings, make, in_callers_transaction):
    settings.OAUTH2_PROVIDER = {**LIFETIME, "CLEAR_EXPIRED_TOKENS_BATCH_SIZE": 2}
    for number in range(3):
        make.refresh_token(f"rt-{number}", make.access_token(f"old-{number}", in_(-2 * HOUR)))
    with transaction.atomic(durable=False) if in_callers_transaction else contextlib.nullcontext():
        clear_expired()
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin')")
            assert cursor.fetchone() == ("on", "on")
    assert not RefreshToken.objects.exists()
    assert not AccessToken.objects.exists()


@pytest.mark.django_db
def test_batches_pause_for_the_configured_interval(settings, make, monkeypatch):
    settings.OAUTH2_PROVIDER = {
        "CLEAR_EXPIRED_TOKENS_BATCH_SIZE": 2,
        "CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL": 0.25,
    }
    for number in range(5):
        make.grant(f"expired-{number}", in_(-HOUR))
    pauses = []
    monkeypatch.setattr(_batching.time, "sleep", pauses.append)
    clear_expired()
    assert pauses == [0.25, 0.25, 0.25]
    assert not Grant.objects.exists()


@pytest.fixture
def delete_receivers():
    """pre_delete and post_delete receivers on AccessToken, recording the tokens they see."""
    seen = {"pre": [], "post": []}

    def before(sender, instance, **kwargs):
        seen["pre"].append(instance.token)

    def after(sender, instance, **kwargs):
        seen["post"].append(instance.token)

    signals.pre_delete.connect(before, sender=AccessToken)
    signals.post_delete.connect(after, sender=AccessToken)
    yield seen
    signals.pre_delete.disconnect(before, sender=AccessToken)
    signals.post_delete.disconnect(after, sender=AccessToken)


@pytest.mark.django_db
def test_set_based_deletion_is_used_only_without_receivers():
    assert all(map(_cleartokens.deletes_set_based, (AccessToken, RefreshToken, IDToken, Grant)))


@pytest.mark.django_db
def test_connected_delete_receivers_still_run(settings, scenario, delete_receivers):
    # IDToken deletions cascade to AccessToken, so they must take the ORM path too.
    assert not _cleartokens.deletes_set_based(AccessToken)
    assert not _cleartokens.deletes_set_based(IDToken)
    assert _cleartokens.deletes_set_based(RefreshToken)
    settings.OAUTH2_PROVIDER = LIFETIME
    clear_expired()
    deleted_access_tokens = sorted(
        name for name, outcome in EXPECTED.items() if name.startswith("at-") and outcome[0] == DELETED
    )
    assert sorted(delete_receivers["pre"]) == deleted_access_tokens
    assert sorted(delete_receivers["post"]) == deleted_access_tokens
    assert surviving(scenario) == expected_survivors(with_lifetime=True)


class Interrupted(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_an_interruption_between_batches_keeps_a_consistent_database_and_a_rerun_finishes(
    settings, make, monkeypatch
):
    settings.OAUTH2_PROVIDER = {**LIFETIME, "CLEAR_EXPIRED_TOKENS_BATCH_SIZE": 2}
    for number in range(5):
        old = make.access_token(f"old-{number}", in_(-2 * HOUR))
        refresh_token = make.refresh_token(f"rt-{number}", old)
        make.access_token(f"refreshed-{number}", in_(HOUR), source_refresh_token=refresh_token)

    def interrupt(walk, deleted):
        raise Interrupted

    monkeypatch.setattr(_cleartokens.ExpiredRowsDeletion, "after_window", interrupt)
    with pytest.raises(Interrupted):
        clear_expired()
    # The first batch of refresh tokens is committed, with its references cleared; nothing else moved.
    assert RefreshToken.objects.count() == 3
    assert AccessToken.objects.count() == 10
    assert AccessToken.objects.filter(source_refresh_token__isnull=True).count() == 5 + 2
    assert dangling_references() == NO_DANGLING

    monkeypatch.undo()
    clear_expired()
    assert not RefreshToken.objects.exists()
    assert sorted(AccessToken.objects.values_list("token", flat=True)) == [f"refreshed-{n}" for n in range(5)]
    assert dangling_references() == NO_DANGLING


@pytest.mark.django_db
def test_a_cascade_from_id_tokens_deletes_the_access_tokens_that_point_to_them(settings, make):
    """Set-based deletes replay CASCADE: an ID token takes the access token using it along."""
    id_token = make.id_token(in_(-HOUR))
    access_token = make.access_token("uses-the-id-token", in_(HOUR), id_token=id_token)
    refresh_token = make.refresh_token("of-that-access-token", access_token)
    _cleartokens.delete_matching(IDToken, models.Q(pk=id_token.pk))
    assert not AccessToken.objects.filter(pk=access_token.pk).exists()
    assert RefreshToken.objects.get(pk=refresh_token.pk).access_token_id is None
    assert dangling_references() == NO_DANGLING


@pytest.mark.django_db
def test_without_receivers_no_model_instance_is_built(settings, scenario):
    settings.OAUTH2_PROVIDER = LIFETIME
    built = []

    def count(sender, **kwargs):
        built.append(sender)

    signals.post_init.connect(count)
    try:
        clear_expired()
    finally:
        signals.post_init.disconnect(count)
    assert built == []
    assert surviving(scenario) == expected_survivors(with_lifetime=True)


@pytest.mark.django_db
def test_logs_upstream_summary_lines_and_progress(settings, scenario, caplog, monkeypatch):
    settings.OAUTH2_PROVIDER = LIFETIME
    monkeypatch.setattr(_batching, "PROGRESS_INTERVAL_SECONDS", 0)
    caplog.set_level("INFO")
    clear_expired()
    summary = [r.getMessage() for r in caplog.records if r.name == "oauth2_provider.models"]
    assert summary == [
        "3 Revoked refresh tokens deleted",
        "2 Orphaned refresh tokens deleted",
        "1 Expired refresh tokens deleted",
        "4 Expired access tokens deleted",
        "3 Expired ID tokens deleted",
        "1 Expired grant tokens deleted",
    ]
    progress = [r.getMessage() for r in caplog.records if r.name == "oauth2_provider._cleartokens"]
    assert f"{AccessToken._meta.label}: 4 rows deleted up to end of table" in " ".join(progress)


@pytest.mark.django_db
def test_without_refresh_lifetime_the_log_says_so(scenario, caplog):
    caplog.set_level("INFO")
    clear_expired()
    messages = [r.getMessage() for r in caplog.records if r.name == "oauth2_provider.models"]
    assert messages[2] == "refresh_expire_at is None. No expired refresh tokens deleted."
    assert len(messages) == 6


@pytest.mark.parametrize(
    "overrides, error_id",
    [
        ({"CLEAR_EXPIRED_TOKENS_BATCH_SIZE": 0}, "oauth2_provider.E002"),
        ({"CLEAR_EXPIRED_TOKENS_BATCH_SIZE": "10000"}, "oauth2_provider.E002"),
        ({"CLEAR_EXPIRED_TOKENS_BATCH_SIZE": True}, "oauth2_provider.E002"),
        ({"CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL": -1}, "oauth2_provider.E003"),
        ({"CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL": "1"}, "oauth2_provider.E003"),
    ],
)
def test_system_check_refuses_bad_cleartokens_batching(settings, overrides, error_id):
    from oauth2_provider.checks import check_clear_expired_batching

    settings.OAUTH2_PROVIDER = overrides

    assert [error.id for error in check_clear_expired_batching(None)] == [error_id]


def test_system_check_accepts_the_defaults_and_fractional_pauses(settings):
    from oauth2_provider.checks import check_clear_expired_batching

    settings.OAUTH2_PROVIDER = {"CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL": 0.5}

    assert check_clear_expired_batching(None) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [{"CLEAR_EXPIRED_TOKENS_BATCH_SIZE": 0}, {"CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL": "1"}],
)
def test_clear_expired_called_directly_refuses_bad_batching_settings(settings, make, overrides):
    """Code calling clear_expired() skips the system checks: it gets the checks' message."""
    from django.core.exceptions import ImproperlyConfigured

    settings.OAUTH2_PROVIDER = overrides
    make.grant("expired", in_(-HOUR))
    (name,) = overrides
    with pytest.raises(ImproperlyConfigured, match=rf"OAUTH2_PROVIDER\['{name}'\] must be"):
        clear_expired()
    assert Grant.objects.count() == 1
