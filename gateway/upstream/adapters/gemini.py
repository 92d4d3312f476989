"""Google Gemini ``streamGenerateContent?alt=sse``, on AI Studio (``kind: gemini``, an API key)
and on Vertex AI (``kind: vertex``: a service-account OAuth token, or an express-mode API key).

Requests are translated field by field; the OpenAI parameters listed in ``DROPPED`` have no
Gemini equivalent this adapter honours and are left out rather than sent to cause a 400.
Gemini sends each function call whole, so each becomes one complete ``tool_calls`` delta.

Thought signatures: Gemini 3 returns an opaque ``thoughtSignature`` with a step's first function
call and refuses (400) a later request whose history lacks it. OpenAI's wire format has no place
for it, so it travels inside the tool call's id (``call_<hex>__thought__<base64url>``), which
every client echoes back, and goes back on the same part. A tool call Gemini did not make (an
earlier answer from another provider, after failover) has no signature; on Gemini 3 and later
the first call of such a step gets Google's documented placeholder, which skips the check.
The stream has no end marker: it ends at EOF, after the event carrying ``finishReason``.

Tool schemas are JSON Schema; Gemini takes an OpenAPI 3.0 subset. Local ``$ref``s are inlined,
``anyOf``/``oneOf``/type lists with ``null`` become ``nullable``, other unions ``anyOf``, and
annotations (``title``, ``default``, ``additionalProperties: false``, unknown keywords) are
dropped. Refused with a 400 naming the tool: recursive or remote ``$ref``, free-form objects
(no ``properties``), non-string enums, ``allOf`` of several schemas, tuples, ``not``,
``if``/``then``/``else``, ``patternProperties`` and the like, and schemas without a type.

    providers:
      - name: gemini                      # AI Studio
        kind: gemini
        base_url: https://generativelanguage.googleapis.com/v1beta
        api_key_env: GEMINI_API_KEY
      - name: vertex                      # Vertex AI, regional (or base_url https://aiplatform.googleapis.com/v1
        kind: vertex                      # with location: global)
        base_url: https://us-central1-aiplatform.googleapis.com/v1
        options: {project: my-project, location: us-central1, credentials_file: /secrets/vertex-sa.json}
      - name: vertex-express              # Vertex AI express mode: an API key, no project
        kind: vertex
        base_url: https://aiplatform.googleapis.com/v1
        api_key_env: VERTEX_EXPRESS_KEY
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import orjson

from gateway.upstream import google_auth
from gateway.upstream.adapters.base import BaseAdapter, Chunk, ProbeRequest, UpstreamRequest
from gateway.upstream.adapters.openai import MAX_RETRY_AFTER, parse_retry_after
from gateway.upstream.adapters.openai import is_stream as is_stream
from gateway.upstream.adapters.gemini_schema import SchemaError, convert_schema
from gateway.upstream.adapters.schema_limits import SchemaBudget
from gateway.errors import AttemptError, Inexpressible, redact
from gateway.events.outcomes import Outcome
from gateway.ids import random_hex
from gateway.upstream.chunks import StreamState, aggregate
from gateway.upstream.sse import SSEParser
from gateway.upstream.tool_ids import signature_of, tool_call_id

if TYPE_CHECKING:
    from gateway.conf.domain import Deployment, Provider

DROPPED = frozenset(
    {
        "logprobs",  # Gemini's logprobsResult is not translated back
        "top_logprobs",
        "logit_bias",
        "presence_penalty",  # accepted by some Gemini models and refused by others
        "frequency_penalty",
        "user",
        "parallel_tool_calls",  # Gemini decides on parallel calls itself
        "functions",  # the legacy function-calling fields
        "function_call",
        "service_tier",
        "store",
        "metadata",
        "prediction",
        "modalities",
        "audio",
        "web_search_options",
        "prompt_cache_key",
        "safety_identifier",
        "verbosity",
    }
)
"""OpenAI request fields this adapter never sends (anything else unknown is not sent either)."""

FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
}
THINKING_BUDGETS = {"low": 1024, "medium": 8192, "high": 24576}
_VERTEX_OPTIONS = frozenset({"project", "location", "credentials_file", "allow_gcs_uris"})
_GCS_HOSTS = frozenset({"storage.googleapis.com", "storage.cloud.google.com"})
_CONTEXT_MARKERS = ("input token count", "exceeds the maximum number of tokens", "context window", "too many tokens")
_MISCONFIGURED_STATUSES = frozenset({"UNAUTHENTICATED", "PERMISSION_DENIED", "NOT_FOUND", "FAILED_PRECONDITION"})
_SERVER_STATUSES = frozenset({"UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED", "UNKNOWN", "ABORTED"})
_BAD_KEY_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_SERVICE_BLOCKED", "SERVICE_DISABLED"})
_FUNCTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}")
KINDS = frozenset({"gemini", "vertex"})
# Google's documented value for a function call that no Gemini 3 model produced.
SIGNATURE_PLACEHOLDER = "skip_thought_signature_validator"
_STRICT_SIGNATURES = re.compile(r"gemini-(\d+)")
_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".pdf": "application/pdf",
}


# ---------------------------------------------------------------- request: messages


def invalid(message: str, param: str | None = None, code: str | None = None) -> Inexpressible:
    return Inexpressible(message, param=param, code=code)


def translate(body: dict[str, Any], model: str = "", gcs: bool = False) -> dict[str, Any]:
    """The Gemini request for an OpenAI chat-completions body; Inexpressible if impossible.
    ``gcs``: the operator lets this provider read Cloud Storage URIs (``allow_gcs_uris``)."""
    contents, system = _contents(body.get("messages") or (), strict_signatures(model), gcs)
    payload: dict[str, Any] = {"contents": contents}
    if system:
        payload["systemInstruction"] = {"parts": system}
    budget = SchemaBudget()
    tools = body.get("tools")
    if tools:
        declarations = [_declaration(tool, i, budget) for i, tool in enumerate(tools)]
        payload["tools"] = [{"functionDeclarations": declarations}]
        choice = body.get("tool_choice")
        if choice is not None:
            payload["toolConfig"] = {"functionCallingConfig": _calling_config(choice)}
    config = _generation_config(body, budget)
    if config:
        payload["generationConfig"] = config
    return payload


def strict_signatures(model: str) -> bool:
    """Gemini 3 and later refuse function-call history without thought signatures."""
    match = _STRICT_SIGNATURES.search(model)
    return match is not None and int(match[1]) >= 3


def _contents(
    messages: Any, strict: bool = False, gcs: bool = False
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    contents: list[dict[str, Any]] = []
    system: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # tool_call_id -> function name, for the function responses
    for index, message in enumerate(messages):
        role = message.get("role")
        if role in ("system", "developer"):
            system.extend(_text_parts(message.get("content"), index))
            continue
        if role == "user":
            author, parts = "user", _user_parts(message.get("content"), index, gcs)
        elif role == "assistant":
            author, parts = "model", _assistant_parts(message, names, index, strict)
        else:  # "tool", or the legacy "function"
            author, parts = "user", [_function_response(message, names, index)]
        if not parts:
            continue
        # Gemini wants turns to alternate, and all responses to one turn's calls in one content.
        if contents and contents[-1]["role"] == author:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": author, "parts": parts})
    return contents, system


def _text_of(content: Any, index: int) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    return "".join(part["text"] for part in _text_parts(content, index))


def _text_parts(content: Any, index: int) -> list[dict[str, Any]]:
    if content is None or content == "":
        return []
    if isinstance(content, str):
        return [{"text": content}]
    if not isinstance(content, list):
        raise invalid(f"messages[{index}].content must be a string or an array of parts.", f"messages[{index}]")
    parts = []
    for part in content:
        if not isinstance(part, dict):
            raise invalid(f"messages[{index}].content parts must be objects.", f"messages[{index}]")
        text = part.get("text") if part.get("type") == "text" else part.get("refusal")
        if not isinstance(text, str):
            raise invalid(
                f"messages[{index}]: only text parts are allowed in this message for Gemini.", f"messages[{index}]"
            )
        if text:
            parts.append({"text": text})
    return parts


def _user_parts(content: Any, index: int, gcs: bool) -> list[dict[str, Any]]:
    if not isinstance(content, list):
        return _text_parts(content, index)
    parts = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            if part.get("text"):
                parts.append({"text": part["text"]})
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            parts.append(_media(url, index, gcs))
        elif kind == "input_audio":
            audio = part.get("input_audio") or {}
            mime = f"audio/{audio.get('format') or 'wav'}"
            parts.append({"inlineData": {"mimeType": mime, "data": audio.get("data") or ""}})
        elif kind == "file" and isinstance((part.get("file") or {}).get("file_data"), str):
            parts.append(_media(part["file"]["file_data"], index, gcs))
        else:
            raise invalid(f"messages[{index}]: content part type {kind!r} cannot be sent to Gemini.", "messages")
    return parts


def _media(url: Any, index: int, gcs: bool) -> dict[str, Any]:
    if not isinstance(url, str) or not url:
        raise invalid(f"messages[{index}]: an image_url part needs a url.", "messages")
    if url.startswith("data:"):
        header, sep, data = url[5:].partition(",")
        mime, _, encoding = header.partition(";")
        if not sep or encoding != "base64" or not mime:
            raise invalid(f"messages[{index}]: a data URL must be data:<mime type>;base64,<data>.", "messages")
        return {"inlineData": {"mimeType": mime, "data": data}}
    if not url.startswith(("https://", "http://", "gs://")):
        raise invalid(f"messages[{index}]: an image URL must be https://, gs:// or a data: URL.", "messages")
    if not gcs and _in_cloud_storage(url):
        raise invalid(
            f"messages[{index}]: a Cloud Storage URI would be read with the gateway's own Google credentials; "
            'a provider accepts one only with options.allow_gcs_uris: "true".',
            "messages",
            "unsupported_parameter",
        )
    suffix = os.path.splitext(urlsplit(url).path)[1].lower()
    return {"fileData": {"mimeType": _IMAGE_TYPES.get(suffix, "image/jpeg"), "fileUri": url}}


def _in_cloud_storage(url: str) -> bool:
    if url.startswith("gs://"):
        return True
    host = (urlsplit(url).hostname or "").lower()
    return host in _GCS_HOSTS or host.endswith(".storage.googleapis.com")


def _assistant_parts(
    message: dict[str, Any], names: dict[str, str], index: int, strict: bool = False
) -> list[dict[str, Any]]:
    parts = _text_parts(message.get("content"), index)
    calls = message.get("tool_calls") or ()
    legacy = message.get("function_call")
    if legacy:
        calls = [*calls, {"id": None, "function": legacy}]
    signed = False
    for call in calls:
        function = call.get("function") or {}
        name = function.get("name")
        if not isinstance(name, str) or not name:
            raise invalid(f"messages[{index}]: every tool call needs function.name.", f"messages[{index}]")
        part: dict[str, Any] = {"functionCall": {"name": name, "args": _arguments(function.get("arguments"), index)}}
        call_id = call.get("id")
        if call_id:
            names[call_id] = name
            signature = signature_of(call_id)
            if signature:
                part["thoughtSignature"] = signature
                signed = True
        parts.append(part)
    if strict and calls and not signed:
        next(part for part in parts if "functionCall" in part)["thoughtSignature"] = SIGNATURE_PLACEHOLDER
    return parts


def _arguments(raw: Any, index: int) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        args = orjson.loads(raw) if raw else {}
    except (orjson.JSONDecodeError, TypeError):
        args = None
    if not isinstance(args, dict):
        raise invalid(f"messages[{index}]: tool call arguments must be a JSON object.", f"messages[{index}]")
    return args


def _function_response(message: dict[str, Any], names: dict[str, str], index: int) -> dict[str, Any]:
    call_id = message.get("tool_call_id")
    name = names.get(call_id) if isinstance(call_id, str) else None
    name = name or message.get("name")
    if not isinstance(name, str) or not name:
        raise invalid(
            f"messages[{index}]: tool_call_id {call_id!r} matches no tool call of an earlier assistant message.",
            f"messages[{index}].tool_call_id",
        )
    text = _text_of(message.get("content"), index)
    response: Any = None
    if text.startswith("{"):
        try:
            response = orjson.loads(text)
        except orjson.JSONDecodeError:
            response = None
    if not isinstance(response, dict):
        response = {"content": text}
    return {"functionResponse": {"name": name, "response": response}}


# ---------------------------------------------------------------- request: tools and config


def _declaration(tool: Any, index: int, budget: SchemaBudget) -> dict[str, Any]:
    function = tool.get("function") if isinstance(tool, dict) and tool.get("type", "function") == "function" else None
    if not isinstance(function, dict):
        raise invalid(f"tools[{index}]: only function tools can be sent to Gemini.", f"tools[{index}]")
    name = function.get("name")
    if not isinstance(name, str) or not _FUNCTION_NAME.fullmatch(name):
        raise invalid(
            f"Tool {name!r} (tools[{index}]): Gemini needs a name of at most 64 letters, digits, '_', '.', ':' "
            "or '-' that starts with a letter or '_'.",
            f"tools[{index}].function.name",
            "invalid_tool_schema",
        )
    declaration: dict[str, Any] = {"name": name}
    if function.get("description"):
        declaration["description"] = function["description"]
    parameters = function.get("parameters")
    if isinstance(parameters, dict) and _has_parameters(parameters):
        try:
            declaration["parameters"] = convert_schema(
                parameters, "parameters", f"tools[{index}].function.parameters", budget
            )
        except SchemaError as exc:
            raise invalid(
                f"Tool {name!r} (tools[{index}]) has a parameter schema Gemini cannot accept: {exc}",
                f"tools[{index}].function.parameters",
                "invalid_tool_schema",
            ) from None
    return declaration


def _has_parameters(schema: dict[str, Any]) -> bool:
    """False for a function without arguments: Gemini refuses an OBJECT without properties."""
    if schema.get("properties") or schema.get("additionalProperties") not in (None, False):
        return True  # a free-form map is refused by the converter, with a message naming the tool
    return any(key in schema for key in ("$ref", "anyOf", "oneOf", "allOf"))


def _calling_config(choice: Any) -> dict[str, Any]:
    if choice in ("auto", "none", "required"):
        return {"mode": {"auto": "AUTO", "none": "NONE", "required": "ANY"}[choice]}
    if isinstance(choice, dict):
        if choice.get("type") == "allowed_tools":
            allowed = choice.get("allowed_tools") or {}
            names = [tool["function"]["name"] for tool in allowed.get("tools") or () if tool.get("function")]
            mode = "ANY" if allowed.get("mode") == "required" else "AUTO"
            return {"mode": mode, "allowedFunctionNames": names} if names else {"mode": mode}
        function = choice.get("function")
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            return {"mode": "ANY", "allowedFunctionNames": [function["name"]]}
    raise invalid("tool_choice must be 'auto', 'none', 'required' or name a function.", "tool_choice")


_CONFIG_FIELDS = (("temperature", "temperature"), ("top_p", "topP"), ("seed", "seed"))


def _generation_config(body: dict[str, Any], schemas: SchemaBudget) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for source, target in _CONFIG_FIELDS:
        value = body.get(source)
        if value is not None:
            config[target] = value
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if limit:
        config["maxOutputTokens"] = limit
    stop = body.get("stop")
    if stop:
        config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    n = body.get("n")
    if n and n != 1:
        config["candidateCount"] = n
    response_format = body.get("response_format")
    if isinstance(response_format, dict):
        _response_format(response_format, config, schemas)
    budget = THINKING_BUDGETS.get(body.get("reasoning_effort") or "")
    if budget is not None:
        config["thinkingConfig"] = {"thinkingBudget": budget}
    return config


def _response_format(response_format: dict[str, Any], config: dict[str, Any], budget: SchemaBudget) -> None:
    kind = response_format.get("type")
    if kind not in ("json_object", "json_schema"):
        return
    config["responseMimeType"] = "application/json"
    schema = (response_format.get("json_schema") or {}).get("schema") if kind == "json_schema" else None
    if isinstance(schema, dict) and schema:
        # Unconvertible: Gemini still answers in JSON, only without the structure enforced.
        with contextlib.suppress(SchemaError):
            config["responseSchema"] = convert_schema(schema, "schema", "response_format.json_schema.schema", budget)


# ---------------------------------------------------------------- JSON Schema -> Gemini Schema


def model_path(deployment: Deployment) -> str:
    model = deployment.upstream_model.removeprefix("models/")
    options = deployment.provider.options
    if deployment.provider.kind != "vertex":
        return f"/models/{model}"
    if "credentials_file" not in options:  # express mode: no project, no location
        return f"/publishers/google/models/{model}"
    location = options.get("location") or deployment.provider.region
    return f"/projects/{options['project']}/locations/{location}/publishers/google/models/{model}"


_URLS: dict[str, tuple[Deployment, str]] = {}


def stream_url(deployment: Deployment) -> str:
    cached = _URLS.get(deployment.id)
    if cached is None or cached[0] is not deployment:
        url = f"{deployment.provider.base_url}{model_path(deployment)}:streamGenerateContent?alt=sse"
        cached = _URLS[deployment.id] = (deployment, url)
    return cached[1]


def auth_headers(provider: Provider) -> dict[str, str]:
    headers = {"content-type": "application/json", "accept": "text/event-stream"}
    credentials = provider.options.get("credentials_file") if provider.kind == "vertex" else None
    if credentials:
        headers["authorization"] = f"Bearer {google_auth.source_for(credentials).token()}"
    elif provider.api_key:
        headers["x-goog-api-key"] = provider.api_key
    return headers


def build_request(deployment: Deployment, body: dict[str, Any]) -> UpstreamRequest:
    """Always the streaming method: it gives first-token deadlines and TTFT for every request."""
    provider = deployment.provider
    payload = orjson.dumps(translate(body, deployment.upstream_model, allows_gcs(provider)))
    return UpstreamRequest(stream_url(deployment), auth_headers(provider), payload)


def probe_request(deployment: Deployment) -> ProbeRequest:
    """GET the model itself: AI Studio's ``models.get``, or Vertex AI's publisher model (one name for
    every project and location). Free and authenticated; a 404 if the deployment names no model.
    A service account's token may be minted here: probes run in Celery, never on a request."""
    provider = deployment.provider
    model = quote(deployment.upstream_model.removeprefix("models/"), safe="")
    path = f"/publishers/google/models/{model}" if provider.kind == "vertex" else f"/models/{model}"
    headers = {k: v for k, v in auth_headers(provider).items() if k not in ("content-type", "accept")}
    return ProbeRequest(f"{provider.base_url}{path}", headers)


def allows_gcs(provider: Provider) -> bool:
    return provider.options.get("allow_gcs_uris") == "true"


# ---------------------------------------------------------------- errors


def classify_error(deployment: Deployment, status: int, body: bytes, headers: Any) -> AttemptError:
    error = _google_error(body)
    message = str(error.get("message") or "") or body[:300].decode("utf-8", "replace").strip() or f"HTTP {status}"
    message = redact(message, deployment.provider.api_key)
    rpc = str(error.get("status") or "")
    raw_details = error.get("details")
    details: list[Any] = raw_details if isinstance(raw_details, list) else []
    failure = _failure(status, rpc, message, details)
    result = AttemptError(failure, message, status=status, code=rpc.lower() or None)
    if failure is Outcome.RATE_LIMITED:
        result.retry_after = parse_retry_after(headers) or _retry_delay(details)
    elif failure is Outcome.CLIENT_ERROR:
        result.error_type = "invalid_request_error"
    elif failure is Outcome.CONTEXT_LENGTH:
        result.code, result.param = "context_length_exceeded", "messages"
    return result


def _failure(status: int, rpc: str, message: str, details: list[Any]) -> Outcome:
    if status == 429 or rpc == "RESOURCE_EXHAUSTED":
        return Outcome.RATE_LIMITED
    if status >= 500 or status == 408 or rpc in _SERVER_STATUSES:
        return Outcome.SERVER_ERROR
    reasons = {detail.get("reason") for detail in details if isinstance(detail, dict)}
    if status in (401, 403, 404) or rpc in _MISCONFIGURED_STATUSES or reasons & _BAD_KEY_REASONS:
        return Outcome.MISCONFIGURED
    lowered = message.lower()
    if any(marker in lowered for marker in _CONTEXT_MARKERS):
        return Outcome.CONTEXT_LENGTH
    return Outcome.CLIENT_ERROR


def _google_error(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    if isinstance(data, list) and data:  # the non-SSE stream method wraps everything in an array
        data = data[0]
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def _retry_delay(details: list[Any]) -> float | None:
    """google.rpc.RetryInfo's ``retryDelay``, a protobuf Duration such as ``"37s"`` or ``"0.5s"``."""
    for detail in details:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            try:
                return min(max(float(str(detail.get("retryDelay", "")).rstrip("s")), 0.0), MAX_RETRY_AFTER)
            except ValueError:
                return None
    return None


# ---------------------------------------------------------------- response: stream decoding


_CHUNK = "chat.completion.chunk"
_NO_CONTENT: dict[str, Any] = {}


class GeminiDecoder:
    """Each SSE event is a whole GenerateContentResponse; it becomes zero or more OpenAI chunks.

    Usage is held back until every candidate seen has finished, because Gemini repeats a
    partial ``usageMetadata`` on every event and OpenAI clients expect one usage chunk.
    """

    __slots__ = (
        "_calls",
        "_created",
        "_finished",
        "_generic",
        "_id",
        "_model",
        "_parser",
        "_seen",
        "_usage",
        "done",
        "malformed",
    )

    def __init__(self, model: str) -> None:
        self._parser = SSEParser()
        self._generic = False  # set once a read is not whole `data:` events: SSEParser from then on
        self.done = False
        self.malformed = 0
        self._id = f"chatcmpl-{random_hex(24)}"
        self._created = int(time.time())
        self._model = model
        self._seen: set[int] = set()  # candidates that already sent their role
        self._finished: set[int] = set()
        self._calls: dict[int, int] = {}  # tool calls so far, per candidate
        self._usage: dict[str, Any] | None = None  # pending usageMetadata, until it is sent

    def feed(self, data: bytes) -> list[Chunk]:
        return self._chunks(self._payloads(data))

    def flush(self) -> list[Chunk]:
        chunks = self._chunks(self._parser.flush()) if self._generic else []
        if self._usage is not None and self._finished:
            chunks.append((None, self._usage_chunk()))
        return chunks

    def _payloads(self, data: bytes) -> list[bytes]:
        """Google sends each event as one ``data: {...}\\r\\n\\r\\n`` line, usually one per read:
        split those directly, and hand anything else to the general SSE parser."""
        if self._generic:
            return self._parser.feed(data)
        if data.startswith(b"data: ") and data.endswith(b"\r\n\r\n") and data.count(b"\n") == 2:
            return [data[6:-4]]  # exactly one whole event
        if data.endswith(b"\r\n\r\n") and b"\n\n" not in data:
            events = data.split(b"\r\n\r\n")
            events.pop()
            if all(event.startswith(b"data: ") and b"\n" not in event for event in events):
                return [event[6:] for event in events]
        self._generic = True
        return self._parser.feed(data)

    def _chunks(self, payloads: list[bytes]) -> list[Chunk]:
        chunks: list[Chunk] = []
        for payload in payloads:
            try:
                event = orjson.loads(payload)
            except orjson.JSONDecodeError:
                self.malformed += 1
                continue
            if type(event) is not dict:
                self.malformed += 1
            elif not self._text_only(event, chunks):
                self.event(event, chunks)
        return chunks

    def _text_only(self, event: dict[str, Any], out: list[Chunk]) -> bool:
        """The common event, one candidate adding text, with fewer lookups; False for any other."""
        candidates = event.get("candidates")
        if not candidates or len(candidates) != 1 or self._finished or "error" in event:
            return False
        candidate = candidates[0]
        parts = candidate.get("content", _NO_CONTENT).get("parts")
        index = candidate.get("index", 0)
        if "finishReason" in candidate or not parts or len(parts) != 1 or index not in self._seen:
            return False
        part = parts[0]
        text = part.get("text")
        if not text or len(part) != 1:
            return False
        usage = event.get("usageMetadata")
        if usage:
            self._usage = usage
        choice = {"index": index, "delta": {"content": text}, "finish_reason": None}
        chunk = {"id": self._id, "object": _CHUNK, "created": self._created, "model": self._model, "choices": [choice]}
        out.append((None, chunk))
        return True

    def event(self, event: dict[str, Any], out: list[Chunk]) -> None:
        if "error" in event:
            out.append((None, {"error": event["error"]}))
            return
        usage = event.get("usageMetadata")
        if usage:
            self._usage = usage
        candidates = event.get("candidates")
        if candidates:
            for candidate in candidates:
                self._candidate(candidate, out)
        elif (event.get("promptFeedback") or {}).get("blockReason"):
            out.append((None, self._chunk(0, {"role": "assistant"}, "content_filter")))
            self._finished.add(0)
        if self._usage is not None and self._finished and self._finished >= self._seen:
            out.append((None, self._usage_chunk()))

    def _candidate(self, candidate: dict[str, Any], out: list[Chunk]) -> None:
        index = candidate.get("index", 0)
        delta: dict[str, Any] = {}
        parts = (candidate.get("content") or {}).get("parts")
        if parts:
            self._parts(index, parts, delta)
        reason = candidate.get("finishReason")
        finish = None
        if reason:
            finish = FINISH_REASONS.get(reason, "stop")
            if finish == "stop" and self._calls.get(index):
                finish = "tool_calls"
            self._finished.add(index)
        if delta or finish:
            if index not in self._seen:
                self._seen.add(index)
                delta["role"] = "assistant"
            out.append((None, self._chunk(index, delta, finish)))

    def _parts(self, index: int, parts: list[dict[str, Any]], delta: dict[str, Any]) -> None:
        if len(parts) == 1 and "text" in parts[0] and not parts[0].get("thought"):
            if parts[0]["text"]:
                delta["content"] = parts[0]["text"]
            return
        texts = [part["text"] for part in parts if "text" in part and not part.get("thought")]
        if any(texts):
            delta["content"] = "".join(texts)
        calls = [part for part in parts if "functionCall" in part]
        if calls:
            delta["tool_calls"] = [self._tool_call(index, part) for part in calls]

    def _tool_call(self, index: int, part: dict[str, Any]) -> dict[str, Any]:
        number = self._calls.get(index, 0)
        self._calls[index] = number + 1
        call = part["functionCall"]
        arguments = orjson.dumps(call.get("args") or {}).decode()
        function = {"name": call.get("name", ""), "arguments": arguments}
        # Gemini 3 puts the signature beside functionCall; some 2.x answers had it inside.
        signature = part.get("thoughtSignature") or call.get("thoughtSignature")
        return {"index": number, "id": tool_call_id(signature), "type": "function", "function": function}

    def _chunk(self, index: int, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {
            "id": self._id,
            "object": _CHUNK,
            "created": self._created,
            "model": self._model,
            "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
        }

    def _usage_chunk(self) -> dict[str, Any]:
        usage, self._usage = self._usage or {}, None
        prompt = usage.get("promptTokenCount", 0)
        thoughts = usage.get("thoughtsTokenCount", 0)
        completion = usage.get("candidatesTokenCount", 0) + thoughts  # OpenAI counts reasoning as output
        return {
            "id": self._id,
            "object": _CHUNK,
            "created": self._created,
            "model": self._model,
            "choices": [],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": usage.get("totalTokenCount") or prompt + completion,
                "prompt_tokens_details": {"cached_tokens": usage.get("cachedContentTokenCount", 0)},
                "completion_tokens_details": {"reasoning_tokens": thoughts},
            },
        }


def decoder(deployment: Deployment) -> GeminiDecoder:
    return GeminiDecoder(deployment.upstream_model)


def parse_completion(deployment: Deployment, body: bytes) -> dict[str, Any]:
    """A whole answer: one GenerateContentResponse, or the JSON array the non-SSE stream sends."""
    name = deployment.provider.name
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise AttemptError(Outcome.BAD_RESPONSE, f"{name} sent an unreadable answer") from None
    events = data if isinstance(data, list) else [data]
    reader = GeminiDecoder(deployment.upstream_model)
    out: list[Chunk] = []
    for event in events:
        if isinstance(event, dict):
            reader.event(event, out)
    out.extend(reader.flush())
    chunks = [chunk for _, chunk in out]
    for chunk in chunks:
        if "error" in chunk:
            raise AttemptError(Outcome.SERVER_ERROR, f"{name} sent an error: {chunk['error']}")
    if not any(chunk.get("choices") for chunk in chunks):
        raise AttemptError(Outcome.BAD_RESPONSE, f"{name} sent an answer without candidates")
    state = StreamState(target_model=deployment.upstream_model, choices=1)
    for chunk in chunks:
        state.observe(chunk)
    return aggregate(chunks, state)


# ---------------------------------------------------------------- validation and the adapters


def validate_gemini(provider: Provider) -> str | None:
    if not provider.api_key:
        return "kind gemini needs api_key or api_key_env (an AI Studio API key)"
    unknown = sorted(provider.options.keys() - {"allow_gcs_uris"})
    if unknown:
        return f"options.{unknown[0]}: unknown option for kind gemini (known: allow_gcs_uris)"
    return _switch(provider.options, "allow_gcs_uris")


def _switch(options: dict[str, str], name: str) -> str | None:
    return None if options.get(name, "false") in ("true", "false") else f"options.{name}: must be true or false"


def validate_vertex(provider: Provider) -> str | None:
    options = provider.options
    unknown = sorted(options.keys() - _VERTEX_OPTIONS)
    if unknown:
        return f"options.{unknown[0]}: unknown Vertex AI option (expected: {', '.join(sorted(_VERTEX_OPTIONS))})"
    problem = _switch(options, "allow_gcs_uris")
    if problem is not None:
        return problem
    credentials = options.get("credentials_file")
    if provider.api_key:
        return "give api_key (Vertex AI express mode) or options.credentials_file, not both" if credentials else None
    if not credentials:
        return "kind vertex needs options.credentials_file (a service-account JSON file), or api_key for express mode"
    location = options.get("location") or provider.region
    if not options.get("project") or not location:
        return "kind vertex needs options.project and options.location (or region)"
    host = urlsplit(provider.base_url).hostname or ""
    regional = host.removesuffix("-aiplatform.googleapis.com") if host.endswith("-aiplatform.googleapis.com") else ""
    if regional and regional != location:
        return f"base_url is the {regional} endpoint but the location is {location}"
    try:
        google_auth.source_for(credentials)
    except ValueError as exc:
        return f"options.credentials_file: {exc}"
    return None


def studio_base_url(options: dict[str, str], region: str | None) -> str:
    return "https://generativelanguage.googleapis.com/v1beta"


def vertex_base_url(options: dict[str, str], region: str | None) -> str | None:
    location = options.get("location") or region
    if not location:
        return None
    host = "aiplatform.googleapis.com" if location == "global" else f"{location}-aiplatform.googleapis.com"
    return f"https://{host}/v1"


class GeminiAdapter(BaseAdapter):
    def __init__(
        self,
        validate: Callable[[Provider], str | None],
        default_base_url: Callable[[dict[str, str], str | None], str | None],
    ) -> None:
        self.validate = validate
        self._default_base_url = default_base_url

    def default_base_url(self, options: dict[str, str], region: str | None) -> str | None:
        return self._default_base_url(options, region)

    build_request = staticmethod(build_request)
    probe_request = staticmethod(probe_request)
    classify_error = staticmethod(classify_error)
    is_stream = staticmethod(is_stream)
    decoder = staticmethod(decoder)
    parse_completion = staticmethod(parse_completion)

    def upstream_body(self, body: dict[str, Any]) -> dict[str, Any]:
        return body  # Gemini gets its own thought signatures back, inside the tool call ids


GEMINI = GeminiAdapter(validate_gemini, studio_base_url)
VERTEX = GeminiAdapter(validate_vertex, vertex_base_url)
