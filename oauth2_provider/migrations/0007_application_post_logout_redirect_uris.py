from django.db import migrations, models


class Migration(migrations.Migration):
    """OpenID Connect RP-initiated logout: where an application may send the user afterwards."""

    dependencies = [("oauth2_provider", "0006_alter_application_client_secret")]

    operations = [
        migrations.AddField(
            model_name="application",
            name="post_logout_redirect_uris",
            field=models.TextField(
                blank=True, help_text="Allowed Post Logout URIs list, space separated", default=""
            ),
        ),
    ]
