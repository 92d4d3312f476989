"""Azure OpenAI's deployment URLs, answered in the OpenAI chat format.

    POST /{provider}/openai/deployments/{deployment}/chat/completions?api-version=...

The model is the deployment name from the path (Azure ignores the body's ``model``). A request
without ``api-version`` is a 404, as on Azure. The last request's path and query per provider is
readable at ``GET /_control/last_path/{provider}``, so tests can check the api-version sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from simulator import delivery
from simulator.model import ErrorSpec
from simulator.openai_format import OpenAIChat

ROUTE = "/{provider}/openai/deployments/{deployment}/chat/completions"
PATHS_KEY = web.AppKey("azure_last_paths", dict)
MISSING_VERSION = ErrorSpec(404, "Resource not found", "invalid_request_error", "404")


class AzureChat(OpenAIChat):
    def model_of(self, body: dict[str, Any] | None, match_info: Mapping[str, str]) -> str:
        return match_info.get("deployment", "")


AZURE_CHAT = AzureChat()


def add_azure_route(app: web.Application) -> None:
    # Imported here: the server imports this module to mount the route.
    from simulator.server import STATE_KEY, ChatHandler

    handler = ChatHandler(app[STATE_KEY], AZURE_CHAT)
    paths: dict[str, str] = {}
    app[PATHS_KEY] = paths

    async def handle(request: web.Request) -> web.StreamResponse:
        paths[request.match_info["provider"]] = request.path_qs
        if "api-version" not in request.query:
            return delivery.error_response(AZURE_CHAT, MISSING_VERSION)
        return await handler.handle(request)

    async def last_path(request: web.Request) -> web.Response:
        path = paths.get(request.match_info["provider"])
        if path is None:
            raise web.HTTPNotFound()
        return delivery.json_response(orjson.dumps({"path": path}))

    app.router.add_post(ROUTE, handle)
    app.router.add_get("/_control/last_path/{provider}", last_path)
