from oauthlib.common import UNICODE_ASCII_CHARACTER_SET
from oauthlib.common import generate_client_id as _random_string

from .settings import oauth2_settings


class BaseHashGenerator:
    """Base of the client id and secret generators: subclasses implement ``hash()``."""

    def hash(self):
        raise NotImplementedError()


class ClientIdGenerator(BaseHashGenerator):
    def hash(self):
        # 40 alphanumerics: no colon, so the id is usable as an HTTP Basic user name (RFC 2617).
        return _random_string(length=40, chars=UNICODE_ASCII_CHARACTER_SET)


class ClientSecretGenerator(BaseHashGenerator):
    def hash(self):
        return _random_string(
            length=oauth2_settings.CLIENT_SECRET_GENERATOR_LENGTH, chars=UNICODE_ASCII_CHARACTER_SET
        )


def generate_client_id():
    """A new client id from ``CLIENT_ID_GENERATOR_CLASS``."""
    return oauth2_settings.CLIENT_ID_GENERATOR_CLASS().hash()


def generate_client_secret():
    """A new client secret from ``CLIENT_SECRET_GENERATOR_CLASS``."""
    return oauth2_settings.CLIENT_SECRET_GENERATOR_CLASS().hash()
