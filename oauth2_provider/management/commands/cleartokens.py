from django.core.management.base import BaseCommand

from ...models import clear_expired


class Command(BaseCommand):
    help = "Delete expired tokens and authorization codes (run it periodically, e.g. from cron)"

    def handle(self, *args, **options):
        clear_expired()
