import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


# Each model's reverse accessor on the user becomes "<app_label>_<model name>", so swapped
# models in other apps do not clash with ours.
PER_MODEL_RELATED_NAME = "%(app_label)s_%(class)s"


def _user_foreign_key(optional):
    """The user link after this migration; optional links allow NULL."""
    return models.ForeignKey(
        on_delete=django.db.models.deletion.CASCADE,
        related_name=PER_MODEL_RELATED_NAME,
        to=settings.AUTH_USER_MODEL,
        **({"blank": True, "null": True} if optional else {}),
    )


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("oauth2_provider", "0004_auto_20200902_2022"),
    ]

    # (model, whether its user is optional), in the order the operations run.
    operations = [
        migrations.AlterField(model_name=model_name, name="user", field=_user_foreign_key(optional))
        for model_name, optional in (
            ("accesstoken", True),
            ("application", True),
            ("grant", False),
            ("idtoken", True),
            ("refreshtoken", False),
        )
    ]
