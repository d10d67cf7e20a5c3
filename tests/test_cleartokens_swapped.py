"""clear_expired() with the four token models swapped for ``tests.swapped_app``'s.

Swappable model settings are read once per process, so this module runs on its own:

    python -m pytest tests/test_cleartokens_swapped.py --ds=tests.settings_swapped

(``DOT_TEST_DB=postgres`` or ``mysql`` as for the other tests; tox runs it in every test environment).
Under any other settings module tests/conftest.py leaves it out of the collection.

The tests of test_cleartokens.py that decide which rows go are imported and run again here, on the
swapped models; the tests below add what only the test app has: a UUID primary key on refresh tokens
and a project's own models referencing access tokens.
"""

from datetime import timedelta

import pytest
from django.db import connection, models
from django.utils import timezone

from oauth2_provider import _cleartokens
from oauth2_provider.models import clear_expired
from tests import test_cleartokens as cases
from tests.swapped_app.models import TokenNote, TokenUse


if cases.AccessToken._meta.label != "swapped_app.Token":
    raise pytest.UsageError(f"{__name__} runs only with --ds=tests.settings_swapped")


AccessToken, RefreshToken, IDToken = cases.AccessToken, cases.RefreshToken, cases.IDToken

# The fixtures and tests of test_cleartokens.py, collected and run here again on the swapped models.
owner, make, scenario, delete_receivers = cases.owner, cases.make, cases.scenario, cases.delete_receivers
test_with_refresh_lifetime_exactly_the_expected_rows_go = (
    cases.test_with_refresh_lifetime_exactly_the_expected_rows_go
)
test_without_refresh_lifetime_only_revoked_and_stranded_refresh_tokens_go = (
    cases.test_without_refresh_lifetime_only_revoked_and_stranded_refresh_tokens_go
)
test_same_rows_as_dot_301_except_the_refresh_tokens_341_deletes = (
    cases.test_same_rows_as_dot_301_except_the_refresh_tokens_341_deletes
)
test_each_delete_removes_at_most_a_batch_and_nothing_counts_the_table = (
    cases.test_each_delete_removes_at_most_a_batch_and_nothing_counts_the_table
)
test_connected_delete_receivers_still_run = cases.test_connected_delete_receivers_still_run
test_an_interruption_between_batches_keeps_a_consistent_database_and_a_rerun_finishes = (
    cases.test_an_interruption_between_batches_keeps_a_consistent_database_and_a_rerun_finishes
)
test_a_cascade_from_id_tokens_deletes_the_access_tokens_that_point_to_them = (
    cases.test_a_cascade_from_id_tokens_deletes_the_access_tokens_that_point_to_them
)


def test_the_token_models_are_the_test_apps():
    labels = {model._meta.label for model in (AccessToken, RefreshToken, IDToken)}
    assert labels == {"swapped_app.Token", "swapped_app.RenewalToken", "swapped_app.IdentityToken"}
    assert isinstance(RefreshToken._meta.pk, models.UUIDField)
    assert AccessToken._meta.db_table == "swapped_token"


@pytest.fixture
def project_rows(scenario):
    """A TokenUse (CASCADE) and a TokenNote (SET_NULL) for every access token of the scenario."""
    access_tokens = {name: row for name, row in scenario.items() if isinstance(row, AccessToken)}
    for name, token in access_tokens.items():
        TokenUse.objects.create(token=token, path=f"/api/{name}")
        TokenNote.objects.create(token=token, text=name)
    return access_tokens


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 10000])
def test_project_relations_to_deleted_access_tokens_cascade_or_are_cleared(
    settings, project_rows, batch_size
):
    settings.OAUTH2_PROVIDER = {**cases.LIFETIME, "CLEAR_EXPIRED_TOKENS_BATCH_SIZE": batch_size}
    assert _cleartokens.deletes_set_based(AccessToken)
    clear_expired()
    kept = {name for name in project_rows if name in cases.expected_survivors(with_lifetime=True)}
    assert kept and kept != set(project_rows)
    assert set(TokenUse.objects.values_list("path", flat=True)) == {f"/api/{name}" for name in kept}
    notes = dict(TokenNote.objects.values_list("text", "token_id"))
    assert notes == {name: project_rows[name].pk if name in kept else None for name in project_rows}
    assert cases.dangling_references() == cases.NO_DANGLING


@pytest.mark.django_db
def test_uuid_refresh_token_references_are_cleared_before_their_rows_go(settings, make):
    """Deleting refresh tokens by UUID clears ``source_refresh_token`` of the tokens issued from them."""
    settings.OAUTH2_PROVIDER = {**cases.LIFETIME, "CLEAR_EXPIRED_TOKENS_BATCH_SIZE": 2}
    issued = []
    for number in range(5):
        old = make.access_token(f"old-{number}", cases.in_(-2 * cases.HOUR))
        refresh_token = make.refresh_token(f"rt-{number}", old)
        issued.append(
            make.access_token(f"new-{number}", cases.in_(cases.HOUR), source_refresh_token=refresh_token)
        )
    clear_expired()
    assert not RefreshToken.objects.exists()
    assert set(AccessToken.objects.values_list("pk", "source_refresh_token_id")) == {
        (token.pk, None) for token in issued
    }
    connection.check_constraints()


def test_revoking_a_refresh_token_revokes_an_access_token_whose_key_is_not_named_id(make):
    """``RefreshToken.revoke()`` found the access token by ``id=``, which a swapped model may not have
    (upstream #1593)."""
    access_token = make.access_token("at-1593", timezone.now() + timedelta(hours=1))
    refresh_token = make.refresh_token("rt-1593", access_token)

    refresh_token.revoke()

    assert not AccessToken.objects.filter(pk=access_token.pk).exists()
    refresh_token.refresh_from_db()
    assert refresh_token.revoked is not None and refresh_token.access_token is None
