from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="ProjectAccessToken",
            fields=[
                (
                    "id",
                    models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                ),
                ("token", models.TextField()),
                ("token_checksum", models.CharField(max_length=64, null=True)),
            ],
        ),
        migrations.CreateModel(
            name="ChecksumlessAccessToken",
            fields=[
                (
                    "id",
                    models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                ),
                ("token", models.TextField()),
            ],
        ),
    ]
