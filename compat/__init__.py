"""Run upstream django-oauth-toolkit's own test files against our ``oauth2_provider``.

``python -m compat [--release X.Y.Z] [--prune-classification] [pytest args...]``; see compat/README.md.
"""
