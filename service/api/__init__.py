"""The HTTP API (`orderhub serve`): FastAPI over the service layer; `create_app` builds it."""

from service.api.app import create_app

__all__ = ["create_app"]
