from django.db import migrations, models


class Migration(migrations.Migration):
    """Per-application switch for hashing the client secret on save."""

    dependencies = [("oauth2_provider", "0008_alter_accesstoken_token")]

    operations = [
        migrations.AddField(
            model_name="application", name="hash_client_secret", field=models.BooleanField(default=True)
        ),
    ]
