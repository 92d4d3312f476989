"""AWS Bedrock Converse wire format, from the Bedrock Runtime API reference.

Routes: ``POST /{provider}/model/{model_id}/converse`` (one JSON answer) and ``.../converse-stream``
(binary event-stream frames, see `simulator.eventstream`). The model id is the URL path segment,
percent-decoded, so an inference-profile id such as ``us.anthropic.claude-3-5-sonnet-20241022-v2:0``
arrives as ``us.anthropic...-v2%3A0`` on the wire.

Requests must carry a SigV4 ``Authorization`` header and ``x-amz-date`` (else 403
UnrecognizedClientException). For the simulator's own test key (`SIM_ACCESS_KEY_ID`) the signature
is checked for real, over the raw path, the signed headers and the body, as AWS does. Bodies are
validated the way Converse does for the mistakes a translating client can make (ValidationException).
Errors carry the exception name in ``x-amzn-errortype`` and ``{"message": ...}`` as the body; the
`malformed` fault becomes a mid-stream ``modelStreamErrorException`` frame. Converse has no JSON
mode: like a model following its instructions, the simulator answers in JSON when the system
prompt mentions "JSON".
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from simulator import delivery
from simulator.answers import body_seed, prompt_schema
from simulator.eventstream import CONTENT_TYPE, event_frame, exception_frame
from simulator.faults import KIND_ERRORS, STATUS_ERRORS
from simulator.model import ChatRequest, ErrorSpec, InvalidRequest, JsonBodyFormat, Reply, StreamScript

SIM_ACCESS_KEY_ID = "AKIASIMULATOR0000001"
SIM_SECRET_ACCESS_KEY = "simulator/secret/access/key/0000000000000"
MAX_CLOCK_SKEW = datetime.timedelta(minutes=15)
ROLES = ("user", "assistant")
BLOCK_KINDS = frozenset({"text", "image", "document", "video", "toolUse", "toolResult", "guardContent", "cachePoint",
                         "reasoningContent"})  # fmt: skip
TOP_LEVEL = frozenset({"messages", "system", "inferenceConfig", "toolConfig", "guardrailConfig",
                       "additionalModelRequestFields", "additionalModelResponseFieldPaths", "promptVariables",
                       "requestMetadata", "performanceConfig", "serviceTier", "outputConfig"})  # fmt: skip
INFERENCE_KEYS = frozenset({"maxTokens", "temperature", "topP", "stopSequences"})
IMAGE_FORMATS = frozenset({"png", "jpeg", "gif", "webp"})
TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
TOOL_USE_ID = re.compile(r"[a-zA-Z0-9_.:-]{1,64}")
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/\s]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)/bedrock/aws4_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)
STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "content_filtered",
}
# Exception name -> (HTTP status, Bedrock's usual wording).
EXCEPTIONS = {
    "ValidationException": (400, "Malformed input request, please reformat your input and try again."),
    "UnrecognizedClientException": (403, "The security token included in the request is invalid."),
    "InvalidSignatureException": (403, "The request signature we calculated does not match the signature you "
                                       "provided. Check your AWS Secret Access Key and signing method."),
    "AccessDeniedException": (403, "You don't have access to the model with the specified model ID."),
    "ResourceNotFoundException": (404, "Model not found. Check the model identifier and the region."),
    "ModelTimeoutException": (408, "Model has timed out in processing the request. Try your request again."),
    "ModelErrorException": (424, "The model returned an error. Try your request again."),
    "ThrottlingException": (429, "Too many requests, please wait before trying again."),
    "ModelNotReadyException": (429, "Model is not ready to serve inference requests. Try again later."),
    "InternalServerException": (500, "The server encountered an internal error while processing the request."),
    "ServiceUnavailableException": (503, "Bedrock is unable to process your request."),
}  # fmt: skip
EXCEPTION_BY_STATUS = {400: "ValidationException", 401: "UnrecognizedClientException", 403: "AccessDeniedException",
                       404: "ResourceNotFoundException", 408: "ModelTimeoutException", 424: "ModelErrorException",
                       429: "ThrottlingException", 503: "ServiceUnavailableException"}  # fmt: skip
MESSAGES_BY_CODE = {
    "context_length_exceeded": "Input is too long for requested model.",
    "content_filter": "The request was blocked by the content filters of the model.",
}
DEFAULT_MESSAGES = frozenset(
    [entry[0] for entry in STATUS_ERRORS.values()] + [error.message for error in KIND_ERRORS.values()]
)
MALFORMED_EVENT = exception_frame(
    "modelStreamErrorException",
    b'{"message":"The model produced output that could not be streamed.","originalStatusCode":500}',
)
ERROR_TYPE_KEY = "__type"  # rendered by render_error, moved into the header by `tag_error`


# ---------------------------------------------------------------- request parsing


def invalid(message: str) -> InvalidRequest:
    return InvalidRequest(ErrorSpec(400, message, "ValidationException"))


class Scan:
    """Walks ``messages`` once: checks each block and gathers what the canned answer needs."""

    def __init__(self, tools_configured: bool) -> None:
        self.tools_configured = tools_configured
        self.chars = 0
        self.images = 0
        self.tool_result: str | None = None
        self.pending_ids: set[str] = set()

    def message(self, index: int, message: Any, previous_role: str | None) -> str:
        where = f"messages.{index}"
        if not isinstance(message, Mapping) or message.get("role") not in ROLES:
            raise invalid(f"{where}.role: Member must satisfy enum value set: [user, assistant]")
        role = str(message["role"])
        if previous_role is None and role != "user":
            raise invalid("A conversation must start with a user message. Try again with a conversation that "
                          "starts with a user message.")  # fmt: skip
        if role == previous_role:
            raise invalid("A conversation must alternate between user and assistant roles. Make sure the "
                          "conversation alternates between user and assistant roles and try again.")  # fmt: skip
        content = message.get("content")
        if not isinstance(content, list) or not content:
            raise invalid(f"{where}.content: The content field must be a non-empty list of content blocks.")
        answered: set[str] = set()
        self.tool_result = None
        for position, block in enumerate(content):
            self.block(f"{where}.content.{position}", block, role, answered)
        if role == "user" and self.pending_ids - answered:
            raise invalid(f"{where}: toolUse ids {sorted(self.pending_ids - answered)} have no toolResult "
                          "in the next user message.")  # fmt: skip
        if role == "user":
            self.pending_ids = set()
        return role

    def block(self, where: str, block: Any, role: str, answered: set[str]) -> None:
        if not isinstance(block, Mapping) or len(block) != 1 or next(iter(block)) not in BLOCK_KINDS:
            raise invalid(f"{where}: a content block must have exactly one member of {sorted(BLOCK_KINDS)}.")
        kind, value = next(iter(block.items()))
        if kind == "text":
            if not isinstance(value, str) or not value.strip():
                raise invalid(f"The text field in the ContentBlock object at {where} is blank. Add text to the "
                              "text field, and try again.")  # fmt: skip
            self.chars += len(value)
        elif kind == "image":
            self.image(where, value)
        elif kind == "toolUse":
            self.tool_use(where, value, role)
        elif kind == "toolResult":
            self.result(where, value, role, answered)

    def image(self, where: str, image: Any) -> None:
        source = image.get("source") if isinstance(image, Mapping) else None
        data = source.get("bytes") if isinstance(source, Mapping) else None
        if not isinstance(image, Mapping) or image.get("format") not in IMAGE_FORMATS:
            raise invalid(f"{where}.image.format: Member must satisfy enum value set: [png, jpeg, gif, webp]")
        try:
            decoded = base64.b64decode(data, validate=True) if isinstance(data, str) else b""
        except (binascii.Error, ValueError):
            decoded = b""
        if not decoded:
            raise invalid(f"{where}.image.source.bytes: must be base64-encoded image bytes.")
        self.images += 1

    def tool_use(self, where: str, tool_use: Any, role: str) -> None:
        if role != "assistant" or not isinstance(tool_use, Mapping):
            raise invalid(f"{where}: toolUse blocks belong in assistant messages.")
        if not isinstance(tool_use.get("toolUseId"), str) or not TOOL_USE_ID.fullmatch(tool_use["toolUseId"]):
            raise invalid(f"{where}.toolUse.toolUseId: Member must satisfy regular expression pattern: "
                          "[a-zA-Z0-9_.:-]+")  # fmt: skip
        if not isinstance(tool_use.get("name"), str) or not isinstance(tool_use.get("input"), Mapping):
            raise invalid(f"{where}.toolUse: name and an input object are required.")
        self.requires_tool_config()
        self.pending_ids.add(tool_use["toolUseId"])

    def result(self, where: str, result: Any, role: str, answered: set[str]) -> None:
        if role != "user" or not isinstance(result, Mapping) or not isinstance(result.get("content"), list):
            raise invalid(f"{where}: toolResult blocks belong in user messages and need a content list.")
        call_id = result.get("toolUseId")
        if call_id not in self.pending_ids:
            raise invalid(f"{where}.toolResult.toolUseId: {call_id!r} does not match a toolUse block in the "
                          "previous assistant message.")  # fmt: skip
        self.requires_tool_config()
        answered.add(str(call_id))
        self.tool_result = "".join(result_text(part) for part in result["content"])

    def requires_tool_config(self) -> None:
        if not self.tools_configured:
            raise invalid("The toolConfig field must be defined when using toolUse and toolResult content blocks.")


def result_text(part: Any) -> str:
    if not isinstance(part, Mapping):
        return ""
    if isinstance(part.get("text"), str):
        return str(part["text"])
    return orjson.dumps(part["json"]).decode() if "json" in part else ""


def system_text(system: Any) -> str:
    if system is None:
        return ""
    if not isinstance(system, list):
        raise invalid("system: must be a list of SystemContentBlock.")
    texts = []
    for index, block in enumerate(system):
        text = block.get("text") if isinstance(block, Mapping) else None
        if not isinstance(text, str) or not text:
            raise invalid(f"system.{index}.text: Member must have length greater than or equal to 1")
        texts.append(text)
    return "\n".join(texts)


def inference(config: Any) -> int | None:
    """Checks inferenceConfig; returns maxTokens."""
    if config is None:
        return None
    if not isinstance(config, Mapping) or set(config) - INFERENCE_KEYS:
        raise invalid(f"inferenceConfig: only {sorted(INFERENCE_KEYS)} are allowed.")
    max_tokens = config.get("maxTokens")
    if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1):
        raise invalid("inferenceConfig.maxTokens: Member must have value greater than or equal to 1")
    for key in ("temperature", "topP"):
        value = config.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1):
            raise invalid(f"inferenceConfig.{key}: Member must have value less than or equal to 1")
    stops = config.get("stopSequences")
    if stops is not None and (not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops)):
        raise invalid("inferenceConfig.stopSequences: Member must be a list of non-empty strings")
    return max_tokens


def tool_config(config: Any) -> tuple[tuple[str, ...], str | None]:
    """(tool names, forced tool) of a toolConfig."""
    if config is None:
        return (), None
    tools = config.get("tools") if isinstance(config, Mapping) else None
    if not isinstance(tools, list) or not tools:
        raise invalid("toolConfig.tools: Member must have length greater than or equal to 1")
    names = []
    for index, tool in enumerate(tools):
        spec = tool.get("toolSpec") if isinstance(tool, Mapping) else None
        name = spec.get("name") if isinstance(spec, Mapping) else None
        schema = spec.get("inputSchema") if isinstance(spec, Mapping) else None
        if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
            raise invalid(f"toolConfig.tools.{index}.toolSpec.name: Member must satisfy regular expression "
                          "pattern: [a-zA-Z0-9_-]+")  # fmt: skip
        json_schema = schema.get("json") if isinstance(schema, Mapping) else None
        if not isinstance(json_schema, Mapping) or json_schema.get("type") != "object":
            raise invalid(f"The value at toolConfig.tools.{index}.toolSpec.inputSchema.json.type must be object")
        names.append(name)
    return tuple(names), forced_tool(config.get("toolChoice"), names)


def tool_schemas(config: Any) -> tuple[Any, ...]:
    """Each tool's `inputSchema.json` (run after `tool_config` has checked them)."""
    return tuple(tool["toolSpec"]["inputSchema"]["json"] for tool in config["tools"])


def forced_tool(choice: Any, names: list[str]) -> str | None:
    if choice is None:
        return None
    if not isinstance(choice, Mapping) or len(choice) != 1 or next(iter(choice)) not in ("auto", "any", "tool"):
        raise invalid("toolConfig.toolChoice: exactly one of auto, any, tool is required.")
    tool = choice.get("tool")
    if tool is None:
        return names[0] if "any" in choice else None  # any: a tool call even after a tool result
    name = tool.get("name") if isinstance(tool, Mapping) else None
    if name not in names:
        raise invalid(f"toolConfig.toolChoice.tool.name: {name!r} is not in toolConfig.tools.")
    return str(name)


def parse_converse(body: dict[str, Any] | None, model: str, stream: bool) -> ChatRequest:
    if body is None:
        raise InvalidRequest(ErrorSpec(400, "Unable to parse the request body as JSON.", "SerializationException"))
    unknown = sorted(set(body) - TOP_LEVEL)
    if unknown:
        raise invalid(f"Unknown field(s) in the request: {', '.join(unknown)}")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise invalid("messages: A conversation must start with a user message.")
    system = system_text(body.get("system"))
    names, forced = tool_config(body.get("toolConfig"))
    schema = prompt_schema(system) if "json" in system.lower() else None
    scan = Scan(tools_configured=bool(names))
    role = None
    for index, message in enumerate(messages):
        role = scan.message(index, message, role)
    return ChatRequest(
        model=model,
        stream=stream,
        include_usage=True,  # the metadata event always carries usage
        json_mode="json" in system.lower(),
        tool_names=names,
        tool_schemas=tool_schemas(body.get("toolConfig")) if names else (),
        output_schema=schema,
        seed=body_seed(body) if names or schema is not None else 0,
        forced_tool=forced,
        tool_result=scan.tool_result if role == "user" else None,
        image_count=scan.images,
        prompt_chars=scan.chars + len(system),
        max_tokens=inference(body.get("inferenceConfig")),
    )


# ---------------------------------------------------------------- rendering


def output_tokens(reply: Reply) -> dict[str, int]:
    return {"inputTokens": reply.prompt_tokens, "outputTokens": reply.completion_tokens,
            "totalTokens": reply.total_tokens}  # fmt: skip


def content_blocks(reply: Reply) -> list[dict[str, Any]]:
    if reply.tool_calls:
        call = reply.tool_calls[0]
        return [{"toolUse": {"toolUseId": call.call_id, "name": call.name, "input": orjson.loads(call.arguments)}}]
    return [{"text": reply.text}]


def render_completion(reply: Reply) -> bytes:
    return orjson.dumps(
        {
            "output": {"message": {"role": "assistant", "content": content_blocks(reply)}},
            "stopReason": STOP_REASONS.get(reply.finish_reason, "end_turn"),
            "usage": output_tokens(reply),
            "metrics": {"latencyMs": 1},
        }
    )


def event(name: str, payload: dict[str, Any]) -> bytes:
    # AWS pads event payloads with a "p" member so sizes leak less; clients must ignore it.
    return event_frame(name, orjson.dumps({**payload, "p": "abcdefghijklmnop"[: 1 + len(name) % 16]}))


def render_stream(reply: Reply) -> StreamScript:
    head = [event("messageStart", {"role": "assistant"})]
    deltas: list[dict[str, Any]]
    if reply.tool_calls:
        call = reply.tool_calls[0]
        start = {"toolUse": {"toolUseId": call.call_id, "name": call.name}}
        head.append(event("contentBlockStart", {"contentBlockIndex": 0, "start": start}))
        deltas = [{"toolUse": {"input": piece}} for piece in call.argument_pieces]
    else:
        deltas = [{"text": piece} for piece in reply.text_pieces]
    content = tuple(event("contentBlockDelta", {"contentBlockIndex": 0, "delta": delta}) for delta in deltas)
    tail = (
        event("contentBlockStop", {"contentBlockIndex": 0}),
        event("messageStop", {"stopReason": STOP_REASONS.get(reply.finish_reason, "end_turn")}),
    )
    # The metadata event (usage) is the last one: the `no_done` fault leaves it out.
    done = event("metadata", {"usage": output_tokens(reply), "metrics": {"latencyMs": 1}})
    return StreamScript(tuple(head), content, tail, done)


def exception_of(error: ErrorSpec) -> tuple[str, str]:
    """(exception name, message) in Bedrock's terms for a format-neutral error."""
    if error.type in EXCEPTIONS or error.type == "SerializationException":
        name = error.type
    elif error.code in MESSAGES_BY_CODE:
        name = "ValidationException"
    else:
        name = EXCEPTION_BY_STATUS.get(error.status) or (
            "InternalServerException" if error.status >= 500 else "ValidationException"
        )
    message = error.message
    if message in DEFAULT_MESSAGES:
        message = MESSAGES_BY_CODE.get(error.code or "") or EXCEPTIONS.get(name, (0, message))[1]
    return name, message


def render_error(error: ErrorSpec) -> bytes:
    name, message = exception_of(error)
    return orjson.dumps({"message": message, ERROR_TYPE_KEY: name})


def tag_error(response: web.Response) -> None:
    """Move the exception name into ``x-amzn-errortype`` and give the status Bedrock uses for it."""
    try:
        body = orjson.loads(response.body)  # type: ignore[arg-type]
    except (orjson.JSONDecodeError, TypeError):
        return
    if not isinstance(body, dict) or ERROR_TYPE_KEY not in body:
        return
    name = body.pop(ERROR_TYPE_KEY)
    response.headers["x-amzn-errortype"] = f"{name}:http://internal.amazon.com/coral/com.amazon.bedrock/"
    if response.status < 500:  # a 5xx fault keeps its exact status; 4xx ones get Bedrock's (401 -> 403)
        response.set_status(EXCEPTIONS.get(name, (response.status, ""))[0])
    response.body = orjson.dumps(body)


# ---------------------------------------------------------------- signatures


def signature_problem(request: web.Request, raw_body: bytes) -> str | None:
    """The exception name if the request is not SigV4-signed (or, for the test key, signed wrongly)."""
    authorization = request.headers.get("authorization", "")
    amz_date = request.headers.get("x-amz-date", "")
    match = AUTHORIZATION.fullmatch(authorization)
    if match is None or not amz_date:
        return "UnrecognizedClientException"
    if match["key"] != SIM_ACCESS_KEY_ID:
        return None
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    except ValueError:
        return "InvalidSignatureException"
    if abs(datetime.datetime.now(datetime.UTC) - when) > MAX_CLOCK_SKEW:
        return "InvalidSignatureException"
    expected = expected_signature(request, raw_body, match["region"], match["signed"].split(";"), amz_date)
    return None if expected == match["signature"] else "InvalidSignatureException"


def expected_signature(request: web.Request, body: bytes, region: str, signed: list[str], amz_date: str) -> str:
    # Recomputed the way AWS does: from the path exactly as it arrived, and only the signed headers.
    headers = {name: request.headers.get(name, "") for name in signed}
    url = f"{request.scheme}://{request.headers.get('host', '')}{request.raw_path}"
    aws_request = AWSRequest(method=request.method, url=url, data=body, headers=headers)
    aws_request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY), "bedrock", region)
    canonical = signer.canonical_request(aws_request)
    return str(signer.signature(signer.string_to_sign(aws_request, canonical), aws_request))


# ---------------------------------------------------------------- the format objects and routes


class BedrockConverse(JsonBodyFormat):
    """`WireFormat` for ``converse`` (``stream=False``) or ``converse-stream`` (``stream=True``)."""

    stream_content_type = CONTENT_TYPE
    malformed_event = MALFORMED_EVENT

    def __init__(self, stream: bool) -> None:
        self.stream = stream

    def model_of(self, body: dict[str, Any] | None, match_info: Mapping[str, str]) -> str:
        return match_info.get("model_id", "")

    def parse(self, body: dict[str, Any] | None, model: str) -> ChatRequest:
        return parse_converse(body, model, self.stream)

    def render_completion(self, reply: Reply) -> bytes:
        return render_completion(reply)

    def render_stream(self, reply: Reply) -> StreamScript:
        return render_stream(reply)

    def render_error(self, error: ErrorSpec) -> bytes:
        return render_error(error)


CONVERSE = BedrockConverse(stream=False)
CONVERSE_STREAM = BedrockConverse(stream=True)


def add_routes(app: web.Application) -> None:
    """Mount ``converse`` and ``converse-stream``: the shared chat handler behind a SigV4 check."""
    # Imported here: simulator.server imports this module while it is being loaded.
    from simulator.server import STATE_KEY, ChatHandler

    for suffix, fmt in (("converse", CONVERSE), ("converse-stream", CONVERSE_STREAM)):
        inner = ChatHandler(app[STATE_KEY], fmt)
        app.router.add_post(f"/{{provider}}/model/{{model_id}}/{suffix}", _signed(inner, fmt))

    # The control plane's free reads, which the liveness probes use.
    app.router.add_get("/{provider}/foundation-models", control_plane)
    app.router.add_get("/{provider}/foundation-models/{model_id}", control_plane)
    app.router.add_get("/{provider}/inference-profiles/{model_id}", control_plane)


def error_response(error: ErrorSpec) -> web.Response:
    response = web.Response(body=render_error(error), content_type="application/json")
    tag_error(response)
    return response


async def control_plane(request: web.Request) -> web.StreamResponse:
    """GetFoundationModel, ListFoundationModels and GetInferenceProfile: SigV4-checked, faults apply."""
    from simulator.server import model_endpoint_fault

    provider, model = request.match_info["provider"], request.match_info.get("model_id", "")
    faulted = await model_endpoint_fault(request, provider, model, error_response)
    if faulted is not None:
        return faulted
    problem = signature_problem(request, await request.read())
    if problem is not None:
        return error_response(ErrorSpec(403, EXCEPTIONS[problem][1], problem))
    if not model:
        return delivery.json_response(orjson.dumps({"modelSummaries": [{"modelId": "amazon.nova-lite-v1:0"}]}))
    if request.path.split("/")[2] == "inference-profiles":
        return delivery.json_response(orjson.dumps({"inferenceProfileId": model, "status": "ACTIVE"}))
    details = {"modelId": model, "modelLifecycle": {"status": "ACTIVE"}, "responseStreamingSupported": True}
    return delivery.json_response(orjson.dumps({"modelDetails": details}))


def _signed(inner: Any, fmt: BedrockConverse) -> Any:
    async def handle(request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        problem = signature_problem(request, raw)
        if problem is not None:
            inner.state.record(request.match_info["provider"], fmt.model_of(None, request.match_info),
                               request.headers, fmt.decode(raw))  # fmt: skip
            response = web.Response(body=render_error(ErrorSpec(403, EXCEPTIONS[problem][1], problem)),
                                    content_type="application/json")  # fmt: skip
            tag_error(response)
            return response
        response = await inner.handle(request)
        if isinstance(response, web.Response) and response.status >= 400 and not response.prepared:
            tag_error(response)
        return response

    return handle
