"""The ``/api/v1`` routers, in the order they appear in the OpenAPI document."""

from serve.routers import auth, campaigns, live, workspaces

API_ROUTERS = [auth.router, workspaces.router, campaigns.router, live.router]
