from django.conf import settings
from django.core.management import BaseCommand, call_command


class Command(BaseCommand):
    help = "Sets the demo up, then serves it on 127.0.0.1 at DEMO_PORT (8000 by default) until interrupted."

    def handle(self, **options):
        call_command("demo_setup")
        # No autoreloader: it would run the server in a child process that outlives a killed parent.
        call_command("runserver", f"127.0.0.1:{settings.DEMO_PORT}", use_reloader=False)
