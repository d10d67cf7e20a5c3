from django.db import migrations, models


class Migration(migrations.Migration):
    """Origins an application's browser code may call the token endpoints from (CORS)."""

    dependencies = [("oauth2_provider", "0009_add_hash_client_secret")]

    operations = [
        migrations.AddField(
            model_name="application",
            name="allowed_origins",
            field=models.TextField(
                blank=True, help_text="Allowed origins list to enable CORS, space separated", default=""
            ),
        ),
    ]
