"""The one definition of an access token's checksum, shared by the model field and the 0012 backfill."""

import hashlib


#: Characters of a hex SHA-256 digest: the length of the ``token_checksum`` column.
CHECKSUM_LENGTH = 64


def token_checksum(token):
    """Hex SHA-256 of the token's UTF-8 bytes: the value stored in ``AccessToken.token_checksum``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
