"""Shims for the Django versions we support."""

try:
    from django.contrib.auth.decorators import login_not_required  # Django >= 5.1
except ImportError:

    def login_not_required(view_func):
        # Before Django 5.1 there is no LoginRequiredMiddleware to opt out of.
        return view_func


__all__ = ["login_not_required"]
