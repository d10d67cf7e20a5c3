from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from ..._online_checksum import Refused, online_for


class Command(BaseCommand):
    help = (
        "Migration 0012 without downtime: 'prepare' before migrate (old code still serving), 'status', "
        "'finish' once no pre-0012 code runs (docs/upgrading.rst, 'Rolling deploys without downtime')"
    )

    def add_arguments(self, parser):
        parser.add_argument("step", choices=("prepare", "status", "finish"))
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")

    def handle(self, *args, step, database, **options):
        try:
            online = online_for(database)
            if step == "status":
                self.stdout.write("\n".join(online.status()))
            else:
                getattr(online, step)(self.stdout.write)
        except (Refused, ImproperlyConfigured) as refused:
            raise CommandError(str(refused)) from refused
