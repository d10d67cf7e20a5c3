from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from ..._batching import progress_on_stderr
from ..._cleartokens import logger, retention_warning
from ...models import clear_expired


class Command(BaseCommand):
    help = "Delete expired tokens and authorization codes (run it periodically, e.g. from cron)"

    def handle(self, *args, **options):
        warning = retention_warning()
        if warning:
            self.stderr.write(self.style.WARNING(warning))
        with progress_on_stderr(logger):
            try:
                clear_expired()
            except ImproperlyConfigured as error:  # a setting that only a run can find unusable
                raise CommandError(str(error)) from error
