"""What our models and early migrations mean for a project's own migrations and databases."""

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.db import connections, models
from django.db.migrations.state import ModelState

from oauth2_provider import models as oauth2_models
from tests.test_migration_0012 import migrate


@pytest.mark.parametrize(
    "abstract",
    [
        oauth2_models.AbstractApplication,
        oauth2_models.AbstractGrant,
        oauth2_models.AbstractAccessToken,
        oauth2_models.AbstractRefreshToken,
        oauth2_models.AbstractIDToken,
    ],
)
def test_a_project_model_built_on_ours_has_only_model_as_migration_base(abstract):
    """Generated migrations of a project must not name private classes of ours (none exist upstream)."""
    project_model = type(
        f"Project{abstract.__name__}",
        (abstract,),
        {"__module__": "tests.models", "Meta": type("Meta", (), {"app_label": "tests_state_only"})},
    )

    assert ModelState.from_model(project_model).bases == (models.Model,)


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_0006_hashes_client_secrets_on_the_database_being_migrated():
    """``migrate --database other`` hashes the secrets stored in ``other`` (upstream #1591)."""
    before, after = (
        ("oauth2_provider", "0005_auto_20211222_2352"),
        ("oauth2_provider", "0006_alter_application_client_secret"),
    )
    migrate("other", before)
    try:
        with connections["other"].cursor() as cursor:
            cursor.execute(
                "INSERT INTO oauth2_provider_application (client_id, redirect_uris, client_type,"
                " authorization_grant_type, client_secret, name, skip_authorization, created, updated,"
                " algorithm) VALUES ('cid', '', 'confidential', 'client-credentials', 'plain-secret', 'app',"
                " %s, %s, %s, '')",
                [False, "2026-01-01 00:00:00", "2026-01-01 00:00:00"],
            )

        migrate("other", after)

        with connections["other"].cursor() as cursor:
            cursor.execute("SELECT client_secret FROM oauth2_provider_application WHERE client_id = 'cid'")
            (stored,) = cursor.fetchone()
        assert stored != "plain-secret"
        assert identify_hasher(stored) is not None
    finally:
        migrate("other", None)
