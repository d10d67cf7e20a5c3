"""Client id and secret generators, and how the settings pick them."""

import string

import pytest

from oauth2_provider.generators import (
    BaseHashGenerator,
    ClientIdGenerator,
    ClientSecretGenerator,
    generate_client_id,
    generate_client_secret,
)
from oauth2_provider.models import get_application_model


ALPHANUMERICS = set(string.ascii_letters + string.digits)


class ConstantGenerator(BaseHashGenerator):
    def hash(self):
        return "constant-value"


def test_base_generator_leaves_hash_to_subclasses():
    with pytest.raises(NotImplementedError):
        BaseHashGenerator().hash()


def test_client_id_is_40_alphanumerics():
    client_id = ClientIdGenerator().hash()
    assert len(client_id) == 40
    # No colon in particular: the id is the user name of HTTP Basic authentication.
    assert set(client_id) <= ALPHANUMERICS


def test_client_secret_is_128_alphanumerics_by_default():
    secret = ClientSecretGenerator().hash()
    assert len(secret) == 128
    assert set(secret) <= ALPHANUMERICS


def test_client_secret_length_follows_the_setting(settings):
    settings.OAUTH2_PROVIDER = {"CLIENT_SECRET_GENERATOR_LENGTH": 255}
    assert len(ClientSecretGenerator().hash()) == 255
    assert len(generate_client_secret()) == 255


@pytest.mark.parametrize("generate", [generate_client_id, generate_client_secret])
def test_generated_values_do_not_repeat(generate):
    values = {generate() for _ in range(50)}
    assert len(values) == 50


def test_generator_classes_come_from_the_settings(settings):
    settings.OAUTH2_PROVIDER = {
        "CLIENT_ID_GENERATOR_CLASS": "tests.test_generators.ConstantGenerator",
        "CLIENT_SECRET_GENERATOR_CLASS": "tests.test_generators.ConstantGenerator",
    }
    assert generate_client_id() == "constant-value"
    assert generate_client_secret() == "constant-value"


def test_new_application_gets_its_credentials_from_the_configured_generators(settings):
    settings.OAUTH2_PROVIDER = {
        "CLIENT_ID_GENERATOR_CLASS": "tests.test_generators.ConstantGenerator",
        "CLIENT_SECRET_GENERATOR_CLASS": "tests.test_generators.ConstantGenerator",
    }
    application = get_application_model()()
    assert application.client_id == "constant-value"
    assert application.client_secret == "constant-value"
