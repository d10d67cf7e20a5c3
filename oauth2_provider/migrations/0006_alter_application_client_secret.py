import logging

from django.db import migrations

import oauth2_provider.generators
import oauth2_provider.models
from oauth2_provider.settings import oauth2_settings


logger = logging.getLogger(__name__)


def hash_existing_client_secrets(apps, schema_editor):
    """Re-save every application's secret: ClientSecretField.pre_save hashes any that are still plain.

    Reads and writes the database being migrated, not the default one (upstream #1591).
    """
    application_model = apps.get_model(oauth2_settings.APPLICATION_MODEL)
    alias = schema_editor.connection.alias
    for application in application_model._default_manager.using(alias).iterator():
        application.save(update_fields=["client_secret"], using=alias)


def warn_secrets_stay_hashed(apps, schema_editor):
    """Hashing cannot be undone; say so rather than fail the rollback."""
    logger.warning("Client secrets hashed by migration 0006 stay hashed: a hash cannot be turned back.")


class Migration(migrations.Migration):
    dependencies = [("oauth2_provider", "0005_auto_20211222_2352")]

    operations = [
        migrations.AlterField(
            model_name="application",
            name="client_secret",
            field=oauth2_provider.models.ClientSecretField(
                blank=True,
                db_index=True,
                default=oauth2_provider.generators.generate_client_secret,
                help_text="Hashed on Save. Copy it now if this is a new secret.",
                max_length=255,
            ),
        ),
        migrations.RunPython(hash_existing_client_secrets, warn_secrets_stay_hashed),
    ]
