"""Django REST framework support: token authentication and scope-checking permission classes."""

from .authentication import OAuth2Authentication
from .permissions import (
    IsAuthenticatedOrTokenHasScope,
    TokenHasReadWriteScope,
    TokenHasResourceScope,
    TokenHasScope,
    TokenMatchesOASRequirements,
)


__all__ = [
    "IsAuthenticatedOrTokenHasScope",
    "OAuth2Authentication",
    "TokenHasReadWriteScope",
    "TokenHasResourceScope",
    "TokenHasScope",
    "TokenMatchesOASRequirements",
]
