"""Google Gemini wire format, on both hosts, from Google's generateContent API reference.

- AI Studio: `POST /{provider}/v1beta/models/{model}:generateContent` and `:streamGenerateContent`
- Vertex AI: `POST /{provider}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:...`
  and express mode's `POST /{provider}/v1/publishers/google/models/{model}:...`
- OAuth: `POST /{provider}/token`, the service-account JWT-bearer grant google-auth sends.

The model is in the path and the method decides streaming, so each route gets its own format
object. Models named `gemini-3...` and later behave as Gemini 3 does with thought signatures:
each function call answer carries one, and a request whose current turn holds a model function
call without it (or with one this simulator did not issue) is a 400.

The stream is SSE (what `alt=sse` asks for) and ends at EOF: there is no `[DONE]`.
Errors use Google's `{"error": {"code", "message", "status", "details"}}`; a 429 carries its
delay in a `google.rpc.RetryInfo` detail, not in a Retry-After header. The `content_filter`
fault is a 200 whose candidate stops with `finishReason: SAFETY`, as Gemini reports it.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from simulator import delivery
from simulator.answers import body_seed
from simulator.faults import KIND_ERRORS, STATUS_ERRORS, FaultSpec, Kind, Latency, error_for
from simulator.model import ChatRequest, ErrorSpec, InvalidRequest, JsonBodyFormat, Reply, StreamScript

if TYPE_CHECKING:
    from simulator.server import SimulatorState

MALFORMED_EVENT = b"data: {not json\n\n"
DEFAULT_MODELS = ("gemini-2.5-flash", "gemini-2.5-pro")
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
ROLES = ("user", "model")
FINISH_REASONS = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP", "content_filter": "SAFETY"}
RPC_STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
# Google's wording for the simulator's default (OpenAI-worded) fault messages.
MESSAGES = {
    "INVALID_ARGUMENT": "Request contains an invalid argument.",
    "UNAUTHENTICATED": "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential.",
    "PERMISSION_DENIED": "Permission denied on resource project sim-project (or it may not exist).",
    "NOT_FOUND": "Publisher model was not found or your project does not have access to it.",
    "RESOURCE_EXHAUSTED": "Resource exhausted. Please try again later.",
    "INTERNAL": "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    "UNAVAILABLE": "The model is overloaded. Please try again later.",
    "DEADLINE_EXCEEDED": "Deadline expired before operation could complete.",
}
CONTEXT_MESSAGE = "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."
BAD_KEY_MESSAGE = "API key not valid. Please pass a valid API key."
DEFAULT_MESSAGES = frozenset(
    [entry[0] for entry in STATUS_ERRORS.values()] + [error.message for error in KIND_ERRORS.values()]
)
# Starts with bytes whose base64 holds '+' and '/', so clients must carry it unchanged.
SIGNATURE_MAGIC = b"\xfb\xef\xbe\xffsim-thought:"
SIGNATURE_PLACEHOLDERS = frozenset({"skip_thought_signature_validator", "context_engineering_is_the_way_to_go"})
SAFETY_RATINGS = (
    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
)


# ---------------------------------------------------------------- request parsing


def invalid(message: str) -> InvalidRequest:
    return InvalidRequest(ErrorSpec(400, message, "INVALID_ARGUMENT"))


def strict_signatures(model: str) -> bool:
    head, _, rest = model.partition("gemini-")
    digits = rest.split(".", 1)[0].split("-", 1)[0]
    return not head and digits.isdigit() and int(digits) >= 3


def thought_signature(name: str) -> str:
    return base64.b64encode(SIGNATURE_MAGIC + name.encode()).decode()


def signature_problem(signature: Any) -> str | None:
    """None if the signature would pass Gemini 3's check; else its 400 message."""
    if not signature:
        return "missing"
    if signature in SIGNATURE_PLACEHOLDERS:
        return None
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raw = b""
    return None if raw.startswith(SIGNATURE_MAGIC) else "corrupted"


class ContentScan:
    """Walks `contents` the way the API validates them, collecting what the answer needs."""

    def __init__(self, strict_signatures: bool = False) -> None:
        self.chars = 0
        self.images = 0
        self.calls_in_last_model_turn = 0
        self.tool_result: str | None = None
        self.strict_signatures = strict_signatures
        self.signature_error: str | None = None  # about the current turn; a new user turn clears it

    def content(self, index: int, content: Any) -> None:
        where = f"GenerateContentRequest.contents[{index}]"
        if not isinstance(content, Mapping):
            raise invalid(f"* {where}: must be an object")
        role = content.get("role", "user")
        if role not in ROLES:
            raise invalid("Please use a valid role: user, model.")
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            raise invalid(f"* {where}.parts: contents.parts must not be empty.")
        responses = [self.part(f"{where}.parts[{i}]", part) for i, part in enumerate(parts)]
        answered = sum(responses)
        if role == "model":
            self.calls_in_last_model_turn = sum(1 for part in parts if "functionCall" in part)
            self.tool_result = None
            self._check_signature(index, parts)
        elif not answered:
            self.signature_error = None
        else:
            if answered != self.calls_in_last_model_turn:
                raise invalid(
                    "Please ensure that the number of function response parts is equal to the number of "
                    "function call parts of the function call turn."
                )
            self.calls_in_last_model_turn = 0

    def _check_signature(self, index: int, parts: list[Any]) -> None:
        """Gemini 3 checks the first function call of each step in the current turn."""
        first = next((part for part in parts if "functionCall" in part), None)
        if not self.strict_signatures or first is None or self.signature_error:
            return
        problem = signature_problem(first.get("thoughtSignature"))
        if problem == "missing":
            name = first["functionCall"].get("name")
            self.signature_error = (
                f"Function call `{name}` in the {index + 1}. content block is missing a `thought_signature`."
            )
        elif problem:
            self.signature_error = "Corrupted thought signature."

    def part(self, where: str, part: Any) -> bool:
        """Scan one part; True if it is a function response."""
        if not isinstance(part, Mapping):
            raise invalid(f"* {where}: must be an object")
        if isinstance(part.get("text"), str):
            self.chars += len(part["text"])
            return False
        media = part.get("inlineData") or part.get("fileData")
        if isinstance(media, Mapping):
            if not isinstance(media.get("mimeType"), str):
                raise invalid(f"* {where}: mimeType is required")
            if "data" in media and not _is_base64(media["data"]):
                raise invalid(f"Invalid value at '{where}.inline_data.data' (TYPE_BYTES), Base64 decoding failed")
            self.images += media["mimeType"].startswith("image/")
            return False
        call = part.get("functionCall")
        if isinstance(call, Mapping) and isinstance(call.get("name"), str):
            return False
        response = part.get("functionResponse")
        if isinstance(response, Mapping) and isinstance(response.get("name"), str):
            result = response.get("response")
            content = result.get("content") if isinstance(result, Mapping) else None
            self.tool_result = content if isinstance(content, str) else orjson.dumps(result).decode()
            return True
        raise invalid(f"* {where}: a part needs text, inlineData, fileData, functionCall or functionResponse")


def _is_base64(data: Any) -> bool:
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, TypeError, ValueError):
        return False
    return True


def system_chars(system: Any) -> int:
    if system is None:
        return 0
    parts = system.get("parts") if isinstance(system, Mapping) else None
    if not isinstance(parts, list):
        raise invalid("* GenerateContentRequest.system_instruction: must have parts")
    return sum(len(part.get("text") or "") for part in parts if isinstance(part, Mapping))


def tool_declarations(tools: Any) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """(names, parameter schemas) of the function declarations."""
    if tools is None:
        return (), ()
    if not isinstance(tools, list):
        raise invalid("* GenerateContentRequest.tools: must be an array")
    names: list[str] = []
    schemas: list[Any] = []
    for t, tool in enumerate(tools):
        declarations = tool.get("functionDeclarations") if isinstance(tool, Mapping) else None
        for d, declaration in enumerate(declarations or ()):
            where = f"GenerateContentRequest.tools[{t}].function_declarations[{d}]"
            name = declaration.get("name") if isinstance(declaration, Mapping) else None
            if not isinstance(name, str) or not name:
                raise invalid(f"* {where}.name: Name cannot be empty.")
            check_schema(declaration.get("parameters"), f"{where}.parameters")
            names.append(name)
            schemas.append(declaration.get("parameters") or declaration.get("parametersJsonSchema") or {})
    return tuple(names), tuple(schemas)


def check_schema(schema: Any, where: str) -> None:
    """The checks the API makes that a translated JSON Schema most easily fails."""
    if schema is None:
        return
    if not isinstance(schema, Mapping):
        raise invalid(f"* {where}: must be a Schema object")
    kind = str(schema.get("type", "")).upper()
    if kind == "OBJECT":
        properties = schema.get("properties")
        if not isinstance(properties, Mapping) or not properties:
            raise invalid(f"* {where}.properties: should be non-empty for OBJECT type")
        for name, sub in properties.items():
            check_schema(sub, f"{where}.properties[{name}]")
    elif kind == "ARRAY":
        check_schema(schema.get("items"), f"{where}.items")
    for i, variant in enumerate(schema.get("anyOf") or ()):
        check_schema(variant, f"{where}.any_of[{i}]")


def calling_config(config: Any, names: tuple[str, ...]) -> tuple[bool, str | None]:
    """(tool choice is none, forced tool) from `toolConfig.functionCallingConfig`."""
    calling = config.get("functionCallingConfig") if isinstance(config, Mapping) else None
    if not isinstance(calling, Mapping):
        return False, None
    mode = calling.get("mode", "AUTO")
    if mode not in ("AUTO", "ANY", "NONE", "VALIDATED"):
        raise invalid(f"Invalid value at 'tool_config.function_calling_config.mode', \"{mode}\"")
    allowed = calling.get("allowedFunctionNames") or []
    unknown = [name for name in allowed if name not in names]
    if unknown:
        raise invalid(f"* allowed_function_names: function {unknown[0]} is not declared")
    forced = (allowed or names or [None])[0] if mode == "ANY" else None
    return mode == "NONE", forced


def positive(config: Mapping[str, Any], key: str) -> int | None:
    value = config.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid(f"* GenerateContentRequest.generation_config.{key}: must be a positive integer")
    return value


def parse_request(body: dict[str, Any] | None, model: str, stream: bool) -> ChatRequest:
    if body is None:
        raise invalid("Invalid JSON payload received.")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise invalid("* GenerateContentRequest.contents: contents is not specified")
    scan = ContentScan(strict_signatures(model))
    for index, content in enumerate(contents):
        scan.content(index, content)
    if scan.signature_error:
        raise invalid(scan.signature_error)
    config = body.get("generationConfig") or {}
    if not isinstance(config, Mapping):
        raise invalid("* GenerateContentRequest.generation_config: must be an object")
    json_mode = config.get("responseMimeType") == "application/json"
    if "responseSchema" in config and not json_mode:
        raise invalid("* GenerateContentRequest.generation_config.response_schema: requires response_mime_type")
    names, schemas = tool_declarations(body.get("tools"))
    choice_none, forced = calling_config(body.get("toolConfig"), names)
    schema = config.get("responseSchema") or config.get("responseJsonSchema") if json_mode else None
    return ChatRequest(
        model=model,
        stream=stream,
        n=min(positive(config, "candidateCount") or 1, 8),
        include_usage=True,
        json_mode=json_mode,
        tool_names=names,
        tool_schemas=schemas,
        output_schema=schema,
        seed=body_seed(body) if names or schema is not None else 0,
        tool_choice_none=choice_none,
        forced_tool=forced,
        tool_result=scan.tool_result,
        image_count=scan.images,
        prompt_chars=scan.chars + system_chars(body.get("systemInstruction")),
        max_tokens=positive(config, "maxOutputTokens"),
    )


# ---------------------------------------------------------------- rendering


def usage_metadata(reply: Reply) -> dict[str, int]:
    return {
        "promptTokenCount": reply.prompt_tokens,
        "candidatesTokenCount": reply.completion_tokens,
        "totalTokenCount": reply.total_tokens,
    }


def function_call(reply: Reply, index: int) -> dict[str, Any]:
    call = reply.tool_calls[index]
    part: dict[str, Any] = {"functionCall": {"name": call.name, "args": orjson.loads(call.arguments)}}
    if strict_signatures(reply.model):
        part["thoughtSignature"] = thought_signature(call.name)
    return part


def candidate(index: int, parts: list[dict[str, Any]], finish: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
    if finish is not None:
        entry["finishReason"] = finish
    entry["index"] = index
    return entry


def response(reply: Reply, candidates: list[dict[str, Any]], usage: dict[str, int]) -> dict[str, Any]:
    return {
        "candidates": candidates,
        "usageMetadata": usage,
        "modelVersion": reply.model,
        "responseId": reply.response_id,
    }


def render_completion(reply: Reply) -> bytes:
    finish = FINISH_REASONS[reply.finish_reason]
    candidates = [
        candidate(i, [function_call(reply, i)] if reply.tool_calls else [{"text": reply.text}], finish)
        for i in range(reply.n)
    ]
    return orjson.dumps(response(reply, candidates, usage_metadata(reply)))


def sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\r\n\r\n"


def render_stream(reply: Reply) -> StreamScript:
    # Gemini repeats a partial usageMetadata on every event; only the last one is complete.
    partial = {"promptTokenCount": reply.prompt_tokens, "totalTokenCount": reply.prompt_tokens}
    if reply.tool_calls:
        steps = [[candidate(i, [function_call(reply, i)]) for i in range(reply.n)]]
    else:
        steps = [[candidate(i, [{"text": piece}]) for i in range(reply.n)] for piece in reply.text_pieces]
    content = tuple(sse(response(reply, step, partial)) for step in steps)
    finish = FINISH_REASONS[reply.finish_reason]
    last = [candidate(i, [{"text": ""}], finish) for i in range(reply.n)]
    return StreamScript((), content, (sse(response(reply, last, usage_metadata(reply))),), None)


def render_blocked(model: str, prompt_tokens: int) -> bytes:
    """What Gemini answers when its safety filters stop a response: no content, SAFETY."""
    blocked = {"finishReason": "SAFETY", "index": 0, "safetyRatings": list(SAFETY_RATINGS)}
    usage = {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens}
    return orjson.dumps({"candidates": [blocked], "usageMetadata": usage, "modelVersion": model})


def google_error(error: ErrorSpec, ai_studio: bool) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) in Google's error shape for a simulator error."""
    status = error.status
    rpc = RPC_STATUSES.get(status) or ("INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
    message = error.message
    details: list[dict[str, Any]] = []
    if error.code == "context_length_exceeded":
        rpc, message = "INVALID_ARGUMENT", CONTEXT_MESSAGE
    elif error.code == "invalid_api_key" and ai_studio:
        # AI Studio answers a bad key with a 400 whose ErrorInfo names the reason.
        status, rpc, message = 400, "INVALID_ARGUMENT", BAD_KEY_MESSAGE
        details.append(error_info("API_KEY_INVALID"))
    elif message in DEFAULT_MESSAGES:
        message = MESSAGES.get(rpc, message)
    if rpc == "RESOURCE_EXHAUSTED":
        details.append({"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []})
        if error.retry_after and error.retry_after.replace(".", "", 1).isdigit():
            details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{error.retry_after}s"})
    body: dict[str, Any] = {"code": status, "message": message, "status": rpc}
    if details:
        body["details"] = details
    return status, {"error": body}


def error_info(reason: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    }


# ---------------------------------------------------------------- the format objects


class GeminiFormat(JsonBodyFormat):
    """`WireFormat` for one Gemini method (`generateContent` or `streamGenerateContent`) on one host."""

    stream_content_type = "text/event-stream"
    malformed_event = MALFORMED_EVENT

    def __init__(self, stream: bool, ai_studio: bool) -> None:
        self.stream = stream
        self.ai_studio = ai_studio

    def model_of(self, body: dict[str, Any] | None, match_info: Mapping[str, str]) -> str:
        return match_info.get("model", "")

    def parse(self, body: dict[str, Any] | None, model: str) -> ChatRequest:
        return parse_request(body, model, self.stream)

    def render_completion(self, reply: Reply) -> bytes:
        return render_completion(reply)

    def render_stream(self, reply: Reply) -> StreamScript:
        return render_stream(reply)

    def render_error(self, error: ErrorSpec) -> bytes:
        return orjson.dumps(google_error(error, self.ai_studio)[1])

    def error_response(self, error: ErrorSpec) -> web.Response:
        status, body = google_error(error, self.ai_studio)
        return delivery.json_response(orjson.dumps(body), status)


# ---------------------------------------------------------------- routes


AI_STUDIO = "/{provider}/v1beta/models/{model:[^/:]+}"
VERTEX = "/{provider}/v1/projects/{project}/locations/{location}/publishers/google/models/{model:[^/:]+}"
VERTEX_EXPRESS = "/{provider}/v1/publishers/google/models/{model:[^/:]+}"


def mount(app: web.Application) -> None:
    """Add the Gemini routes (both hosts, both methods) and the OAuth token endpoint."""
    from simulator.server import STATE_KEY  # the server imports this module

    state = app[STATE_KEY]
    for prefix, ai_studio in ((AI_STUDIO, True), (VERTEX, False), (VERTEX_EXPRESS, False)):
        for method, stream in ((":generateContent", False), (":streamGenerateContent", True)):
            handler = _handler_class()(state, GeminiFormat(stream, ai_studio))
            app.router.add_post(prefix + method, handler.handle)
    app.router.add_post("/{provider}/token", TokenEndpoint(state).handle)
    # The liveness probes' free model-gets (and AI Studio's model list).
    app.router.add_get("/{provider}/v1beta/models", functools.partial(get_models, ai_studio=True))
    app.router.add_get(AI_STUDIO, functools.partial(get_models, ai_studio=True))
    app.router.add_get(VERTEX_EXPRESS, functools.partial(get_models, ai_studio=False))


async def get_models(request: web.Request, *, ai_studio: bool) -> web.StreamResponse:
    """``models.get`` / ``models.list`` on AI Studio, the publisher model on Vertex AI: an API key or
    a bearer token is required; the provider's (or model's) faults apply."""
    from simulator.server import model_endpoint_fault

    provider, model = request.match_info["provider"], request.match_info.get("model")
    render = GeminiFormat(False, ai_studio).error_response
    faulted = await model_endpoint_fault(request, provider, model or "", render)
    if faulted is not None:
        return faulted
    bearer = request.headers.get("authorization", "").startswith("Bearer ")
    if not bearer and not request.headers.get("x-goog-api-key"):
        return render(ErrorSpec(401, "Request is missing required authentication credential.", "auth"))
    if model is None:
        return delivery.json_response(orjson.dumps({"models": [model_resource(m, ai_studio) for m in DEFAULT_MODELS]}))
    return delivery.json_response(orjson.dumps(model_resource(model, ai_studio)))


def model_resource(model: str, ai_studio: bool) -> dict[str, Any]:
    if ai_studio:
        methods = ["generateContent", "streamGenerateContent", "countTokens"]
        return {"name": f"models/{model}", "displayName": model, "supportedGenerationMethods": methods}
    return {"name": f"publishers/google/models/{model}", "versionId": "001", "launchStage": "GA"}


@functools.cache
def _handler_class() -> type:
    from simulator.server import ChatHandler

    class GeminiHandler(ChatHandler):
        """Google's renderings of the faults: errors without Retry-After, SAFETY as a 200."""

        fmt: GeminiFormat

        async def faulted(
            self,
            request: web.Request,
            provider: str,
            body: dict[str, Any] | None,
            model: str,
            spec: FaultSpec,
            latency: Latency,
        ) -> web.StreamResponse:
            if spec.kind is Kind.CONTENT_FILTER:
                return await self.blocked(request, body, model, latency)
            error = error_for(spec) if spec.kind not in (Kind.RESET, Kind.HANG) else None
            if error is None:
                return await super().faulted(request, provider, body, model, spec, latency)
            await delivery.pause(latency.headers_delay)
            return self.fmt.error_response(error)

        async def blocked(
            self, request: web.Request, body: dict[str, Any] | None, model: str, latency: Latency
        ) -> web.StreamResponse:
            try:
                chat = self.fmt.parse(body, model)
            except InvalidRequest as exc:
                return self.fmt.error_response(exc.error)
            answer = render_blocked(model, max(1, chat.prompt_chars // 4))
            if not chat.stream:
                return await delivery.send_completion(request, answer, latency, None)
            script = StreamScript((), (), (b"data: " + answer + b"\r\n\r\n",), None)
            return await delivery.send_stream(request, self.fmt, script, latency, None, 0)

    return GeminiHandler


class TokenEndpoint:
    """Google's OAuth token endpoint, for the JWT-bearer grant of a service account.

    Mints are recorded as requests to model "token" of the provider in the path, so tests can
    count them with `attempts(provider, "token")`. `?expires_in=` sets the token lifetime.
    """

    def __init__(self, state: SimulatorState) -> None:
        self.state = state

    async def handle(self, request: web.Request) -> web.Response:
        provider = request.match_info["provider"]
        form = dict(await request.post())
        self.state.record(provider, "token", request.headers, {k: str(v) for k, v in form.items()})
        claims = jwt_claims(form.get("assertion"))
        if form.get("grant_type") != JWT_GRANT or claims is None:
            return oauth_error("invalid_grant", "Invalid JWT: the assertion is missing or malformed.")
        if CLOUD_PLATFORM not in str(claims.get("scope", "")).split():
            return oauth_error("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        minted = self.state.attempts[(provider, "token")]
        lifetime = int(request.query.get("expires_in", "3600"))
        token = {"access_token": f"ya29.sim-{provider}-{minted}", "expires_in": lifetime, "token_type": "Bearer"}
        return delivery.json_response(orjson.dumps(token))


def jwt_claims(assertion: Any) -> dict[str, Any] | None:
    """The claims of a JWT (signature not checked: the simulator holds no public keys)."""
    if not isinstance(assertion, str) or assertion.count(".") != 2:
        return None
    payload = assertion.split(".")[1]
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def oauth_error(code: str, description: str) -> web.Response:
    return delivery.json_response(orjson.dumps({"error": code, "error_description": description}), 400)
