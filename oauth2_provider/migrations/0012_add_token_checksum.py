"""Add ``AccessToken.token_checksum`` and fill it for the existing rows.

Operations and field definitions are those of django-oauth-toolkit 3.0.1, so the resulting schema and
migration state are the same. The fill is ``oauth2_provider.backfill``: keyset pages and set-based
updates instead of saving every token through the ORM. The schema steps are resumable on backends
without transactional DDL (see ``oauth2_provider._resumable``). On a table that ``manage.py
tokenchecksum prepare`` prepared, each step finds its work done or reduced to catalog changes; on
MySQL/MariaDB a plain run keeps rows that live traffic inserts meanwhile from failing the last step,
and ``OAUTH2_PROVIDER["TOKEN_CHECKSUM_MIGRATION_LOCK_TIMEOUT"]`` bounds the wait for the table's locks
(see ``oauth2_provider._online_checksum``).
"""

from django.db import migrations, models

import oauth2_provider.models
from oauth2_provider._online_checksum import (
    FilledAlterField,
    applying_0012,
    fill_from_migration,
    unfill_from_migration,
)
from oauth2_provider._resumable import ResumableAddField, ResumableAlterField
from oauth2_provider.settings import oauth2_settings


class Migration(migrations.Migration):
    dependencies = [
        ("oauth2_provider", "0011_refreshtoken_token_family"),
        migrations.swappable_dependency(oauth2_settings.ACCESS_TOKEN_MODEL),
    ]

    operations = [
        ResumableAddField(
            model_name="accesstoken",
            name="token_checksum",
            field=oauth2_provider.models.TokenChecksumField(blank=True, null=True, max_length=64),
        ),
        ResumableAlterField(model_name="accesstoken", name="token", field=models.TextField()),
        # Not atomic on its own: where DDL is transactional the whole migration is one transaction
        # anyway; on MySQL/MariaDB each page then commits, keeping locks and undo log small.
        migrations.RunPython(fill_from_migration, unfill_from_migration, atomic=False),
        FilledAlterField(
            model_name="accesstoken",
            name="token_checksum",
            field=oauth2_provider.models.TokenChecksumField(
                blank=False, max_length=64, db_index=True, unique=True
            ),
        ),
    ]

    def apply(self, project_state, schema_editor, collect_sql=False):
        with applying_0012(self.mutate_state(project_state), schema_editor):
            return super().apply(project_state, schema_editor, collect_sql)
