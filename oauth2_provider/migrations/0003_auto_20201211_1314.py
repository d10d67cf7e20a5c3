from django.db import migrations, models


class Migration(migrations.Migration):
    """Redirect URIs may be longer than 255 characters."""

    dependencies = [("oauth2_provider", "0002_auto_20190406_1805")]

    operations = [
        migrations.AlterField(model_name="grant", name="redirect_uri", field=models.TextField()),
    ]
