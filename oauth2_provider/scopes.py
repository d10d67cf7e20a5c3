from .settings import oauth2_settings


class BaseScopes:
    """Where the provider learns which scopes exist; ``SCOPES_BACKEND_CLASS`` names the one in use."""

    def get_all_scopes(self):
        """Every scope of the system as ``{name: description}``."""
        raise NotImplementedError("")

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        """Names of the scopes ``application`` may ask for in ``request``."""
        raise NotImplementedError("")

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        """Names granted when the request names no scope: a subset of the available ones."""
        raise NotImplementedError("")


class SettingsScopes(BaseScopes):
    """Scopes from the ``SCOPES`` and ``DEFAULT_SCOPES`` settings, the same for every application."""

    def get_all_scopes(self):
        return oauth2_settings.SCOPES

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return oauth2_settings._SCOPES

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return oauth2_settings._DEFAULT_SCOPES


def get_scopes_backend():
    return oauth2_settings.SCOPES_BACKEND_CLASS()
