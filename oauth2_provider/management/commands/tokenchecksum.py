from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from ..._online_checksum import METHODS, Refused, online_for


class Command(BaseCommand):
    help = (
        "Migration 0012 without downtime: 'prepare' before migrate (old code still serving), 'status', "
        "'finish' once no pre-0012 code runs (docs/upgrading.rst, 'Rolling deploys without downtime')"
    )

    def add_arguments(self, parser):
        parser.add_argument("step", choices=("prepare", "status", "finish"))
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")
        parser.add_argument(
            "--method",
            choices=METHODS,
            help="how prepare brings the table to 0012's shape: 'copy' (MariaDB's default) builds the final "
            "table beside it and swaps it in, so that migrate only records 0012; 'in-place' (the default "
            "elsewhere, and the only one on MySQL) adds to the table, and migrate then changes token itself",
        )

    def handle(self, *args, step, database, method=None, **options):
        if method is not None and step != "prepare":
            raise CommandError(f"--method is an option of prepare, not of {step}.")
        try:
            online = online_for(database)
            if step == "status":
                self.stdout.write("\n".join(online.status()))
            elif step == "prepare":
                online.prepare(self.stdout.write, method=method)
            else:
                getattr(online, step)(self.stdout.write)
        except (Refused, ImproperlyConfigured) as refused:
            raise CommandError(str(refused)) from refused
