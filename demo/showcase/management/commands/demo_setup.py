from django.conf import settings
from django.core.management import BaseCommand, call_command

from showcase import provisioning


class Command(BaseCommand):
    help = "Migrates the demo database, creates or resets the demo user and clients, prints how to try them."

    def handle(self, **options):
        call_command("migrate", interactive=False, verbosity=0)
        owner = provisioning.ensure_demo_user()
        provisioning.ensure_demo_applications(owner, settings.DEMO_PORT)
        self.stdout.write(provisioning.instructions(settings.DEMO_PORT))
        # The server that usually follows never exits: show the instructions now, even through a pipe.
        self.stdout.flush()
