"""The demo's user and clients, with fixed credentials so that the printed commands work as they are.

DEMO-ONLY credentials: they are published with the project. Never reuse them on a real server.
"""

USERNAME = "demo"
PASSWORD = "demo-password"

# A confidential web application using the authorization-code grant with PKCE (and OpenID Connect).
WEB_CLIENT_ID = "demo-web-app"
WEB_CLIENT_SECRET = "demo-web-app-secret-DEMO-ONLY"

# A backend service that gets tokens for itself with the client-credentials grant.
SERVICE_CLIENT_ID = "demo-service"
SERVICE_CLIENT_SECRET = "demo-service-secret-DEMO-ONLY"
