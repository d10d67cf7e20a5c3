"""The object of a management page, looked up by the primary key in its URL."""

from django.core.exceptions import ValidationError
from django.http import Http404


class PrimaryKeyObjectMixin:
    """For single-object generic views: 404, not a server error, for a key of the wrong type.

    The URL patterns take any slug, so that a swapped model may use another key type; for an integer key,
    a value such as "abc" made the lookup raise. So did, on SQLite with Django < 5.0, an integer beyond 64
    bits (the driver raises ``OverflowError``; later Django releases find no row instead).
    """

    def get_object(self, queryset=None):
        model = (self.get_queryset() if queryset is None else queryset).model
        try:
            model._meta.pk.to_python(self.kwargs.get(self.pk_url_kwarg))
        except ValidationError:
            raise Http404("No such object.") from None
        try:
            return super().get_object(queryset)
        except OverflowError:
            raise Http404("No such object.") from None
