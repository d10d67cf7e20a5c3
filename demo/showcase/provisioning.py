"""The demo's user and applications, created or reset on every start, and the instructions printed after."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from oauth2_provider.models import get_application_model

from . import demo_accounts


def origins(port):
    """The origins the demo answers on. Both are registered with the web app, so either works in a browser."""
    return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


def ensure_demo_user():
    """The demo user, created if missing and given the documented password again if it was changed."""
    user, _ = get_user_model().objects.get_or_create(username=demo_accounts.USERNAME)
    user.set_password(demo_accounts.PASSWORD)
    user.save()
    return user


def ensure_demo_applications(owner, port):
    """Creates both demo clients, or resets them to the documented values (their secrets included).

    They belong to ``owner`` so that the application management pages under ``/o/applications/`` list them.
    """
    application_model = get_application_model()
    application_model.objects.update_or_create(
        client_id=demo_accounts.WEB_CLIENT_ID,
        defaults={
            "name": "Demo web app",
            "user": owner,
            "client_type": application_model.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": application_model.GRANT_AUTHORIZATION_CODE,
            "client_secret": demo_accounts.WEB_CLIENT_SECRET,
            "redirect_uris": " ".join(origin + reverse("callback") for origin in origins(port)),
            "post_logout_redirect_uris": " ".join(origin + reverse("home") for origin in origins(port)),
            # ID tokens are signed with the demo's RSA key (settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]).
            "algorithm": application_model.RS256_ALGORITHM,
            "skip_authorization": False,
        },
    )
    application_model.objects.update_or_create(
        client_id=demo_accounts.SERVICE_CLIENT_ID,
        defaults={
            "name": "Demo service",
            "user": owner,
            "client_type": application_model.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": application_model.GRANT_CLIENT_CREDENTIALS,
            "client_secret": demo_accounts.SERVICE_CLIENT_SECRET,
        },
    )


def instructions(port):
    """What to open and what to paste into a shell, for a server at 127.0.0.1:``port``."""
    base = origins(port)[0]
    token_url = base + reverse("oauth2_provider:token")
    read_token = "python3 -c 'import json, sys; print(json.load(sys.stdin)[\"access_token\"])'"
    service = f"{demo_accounts.SERVICE_CLIENT_ID}:{demo_accounts.SERVICE_CLIENT_SECRET}"
    return f"""
The demo provider is set up. Every credential below is a DEMO-ONLY value: never reuse it.

Open {base + reverse("home")} and sign in as {demo_accounts.USERNAME} / {demo_accounts.PASSWORD}.
  Authorization code with PKCE:  {base + reverse("start-authorization")}
      client id {demo_accounts.WEB_CLIENT_ID}, secret {demo_accounts.WEB_CLIENT_SECRET},
      redirect URI {base + reverse("callback")}
  Your applications:             {base + reverse("oauth2_provider:list")}
  OpenID Connect discovery:      {base + reverse("oauth2_provider:oidc-connect-discovery-info")}

Client credentials, then the protected API and the DRF view, from a shell:

TOKEN=$(curl -s -u {service} -d grant_type=client_credentials {token_url} | {read_token})
curl -H "Authorization: Bearer $TOKEN" {base + reverse("api-hello")}
curl -H "Authorization: Bearer $TOKEN" {base + reverse("api-profile")}
"""
