"""Stand-ins for a project's own access token model, for the backfill tests."""

from django.db import models


class ProjectAccessToken(models.Model):
    """A project's token model that already has the checksum column, still empty."""

    token = models.TextField()
    token_checksum = models.CharField(max_length=64, null=True)

    def __str__(self):
        return self.token


class ChecksumlessAccessToken(models.Model):
    """A project's token model that has no checksum column yet."""

    token = models.TextField()

    def __str__(self):
        return self.token
