from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from ...models import get_application_model


Application = get_application_model()


def _choices(choices):
    return ", ".join(value for value, _label in choices if value)


def _format_errors(error):
    """One ``- field: [messages]`` line per invalid field, under a heading."""
    lines = "\n ".join(f"- {field}: {messages}" for field, messages in error.message_dict.items())
    return f"Please correct the following errors:\n {lines}"


class Command(BaseCommand):
    help = "Register a new OAuth2 application from the command line"

    def add_arguments(self, parser):
        parser.add_argument("client_type", help=f"Client type: {_choices(Application.CLIENT_TYPES)}")
        parser.add_argument(
            "authorization_grant_type",
            help=f"Authorization grant type: {_choices(Application.GRANT_TYPES)}",
        )
        parser.add_argument("--client-id", help="Client id to use instead of a generated one")
        parser.add_argument("--user", help="Primary key of the user who owns the application")
        parser.add_argument("--redirect-uris", help="Allowed redirect URIs, separated by spaces")
        parser.add_argument(
            "--post-logout-redirect-uris",
            default="",
            help="Allowed post-logout redirect URIs, separated by spaces",
        )
        parser.add_argument("--client-secret", help="Client secret to use instead of a generated one")
        parser.add_argument(
            "--no-hash-client-secret",
            dest="hash_client_secret",
            action="store_false",
            help="Store the client secret in cleartext instead of hashing it",
        )
        parser.add_argument("--name", help="Human-readable name of the application")
        parser.add_argument(
            "--skip-authorization",
            action="store_true",
            help="Never ask users to approve this application, not even the first time",
        )
        parser.add_argument(
            "--algorithm",
            help=f"Algorithm that signs the OIDC ID tokens: {_choices(Application.ALGORITHM_TYPES)}",
        )

    def handle(self, *args, **options):
        values = self._field_values(options)
        application = Application(**values)
        try:
            application.full_clean()
        except ValidationError as error:
            self.stdout.write(self.style.ERROR(_format_errors(error)))
            return
        # Saving hashes the secret: keep the cleartext to show it once.
        cleartext_secret = application.client_secret
        application.save()
        label = values.get("name", application.client_id)
        self.stdout.write(self.style.SUCCESS(f"New application {label} created successfully."))
        if "client_secret" not in values:
            self.stdout.write(self.style.SUCCESS(f"client_secret: {cleartext_secret}"))

    def _field_values(self, options):
        """The options that set a field of the Application model (works for a swapped model too).

        Unset options are left out so that the model's defaults apply (a generated client id and
        secret, for example); booleans are always passed.
        """
        field_names = {field.name for field in Application._meta.fields}
        values = {}
        for key, value in options.items():
            if key in field_names and (isinstance(value, bool) or value):
                values["user_id" if key == "user" else key] = value
        return values
