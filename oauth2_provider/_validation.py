"""Small checks on setting values, shared by the system checks and the code that reads the settings."""


def is_positive_int(value):
    """Whether ``value`` is an int of at least 1 (``True`` is not accepted as 1)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1
