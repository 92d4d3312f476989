"""AWS Bedrock Converse: OpenAI chat requests to ``converse-stream``, signed with botocore's SigV4.

The answer arrives in AWS's binary event-stream framing, read with botocore's parser and turned
into OpenAI chunks event by event.

Provider settings (``kind: bedrock``): ``region`` is the AWS region and the SigV4 scope;
``base_url`` is normally ``https://bedrock-runtime.{region}.amazonaws.com``. Credentials come from
``options``: ``access_key_id_env`` + ``secret_access_key_env`` (+ ``session_token_env``) naming
environment variables, or else botocore's default chain (env, ``~/.aws``, SSO, instance or task
role), optionally with ``options.profile``. They are resolved once, when the config is loaded;
refreshable ones (roles, SSO) are then renewed by a background thread, never on a request.

Request mapping, and what Converse cannot honour:
- system/developer messages -> ``system``; tool messages -> ``toolResult`` blocks in user turns;
  consecutive turns of one role are merged, as Converse wants strict alternation.
- images: data URLs only (png, jpeg, gif, webp); Converse does not fetch http(s) URLs -> 400.
- ``response_format`` (json_object / json_schema): best effort, as a system instruction.
- ``temperature`` is clamped to Converse's 0..1 range; for Anthropic models (``anthropic.`` in the
  model id) ``top_p`` is left out when ``temperature`` is set, as current Claude models reject the pair.
- ``tool_choice: "none"``: Converse has no such choice, so the tools are left out (or, when the
  history holds tool calls and Converse insists on a toolConfig, offered without forcing).
- ``n`` > 1 -> 400 naming ``n``: Converse returns one choice.
- dropped: see ``DROPPED_PARAMS``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials, RefreshableCredentials
from botocore.eventstream import EventStreamBuffer, EventStreamHeaderParser, EventStreamMessage, ParserError
from botocore.exceptions import BotoCoreError
from botocore.utils import percent_encode
import orjson

from gateway.upstream.adapters import schema_limits
from gateway.upstream.adapters.base import BaseAdapter, Chunk, ProbeRequest, UpstreamRequest
from gateway.upstream.adapters.openai import parse_retry_after
from gateway.errors import AttemptError, Inexpressible, redact
from gateway.events.outcomes import Outcome
from gateway.ids import random_hex

if TYPE_CHECKING:
    from gateway.conf.domain import Deployment, Provider

log = logging.getLogger(__name__)

SIGNING_NAME = "bedrock"
STREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"
OPTIONS = frozenset({"access_key_id_env", "secret_access_key_env", "session_token_env", "profile"})
DROPPED_PARAMS = (
    "logprobs", "top_logprobs", "logit_bias", "presence_penalty", "frequency_penalty", "seed", "user",
    "parallel_tool_calls", "stream_options", "metadata", "store", "service_tier", "prediction",
    "modalities", "audio", "reasoning_effort", "web_search_options", "tools[].function.strict",
)  # fmt: skip
JSON_OBJECT_INSTRUCTION = "Reply with one valid JSON object and nothing else: no prose, no Markdown code fences."
JSON_SCHEMA_INSTRUCTION = (
    "Reply with one valid JSON value that conforms to this JSON Schema, and nothing else: "
    "no prose, no Markdown code fences.\nSchema: "
)
_IMAGE_FORMATS = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
}
_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_TOOL_ID = re.compile(r"[a-zA-Z0-9_.:-]{1,64}")
_TOOL_ID_BAD = re.compile(r"[^a-zA-Z0-9_.:-]")
_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}
_SERVER_ERRORS = frozenset(
    {
        "ServiceUnavailableException", "InternalServerException", "ModelNotReadyException",
        "ModelStreamErrorException", "ModelErrorException", "ModelTimeoutException", "InternalFailure",
    }
)  # fmt: skip
_MISCONFIGURED = frozenset(
    {
        "AccessDeniedException", "UnrecognizedClientException", "ResourceNotFoundException",
        "InvalidSignatureException", "IncompleteSignatureException", "SignatureDoesNotMatch",
        "ExpiredTokenException", "MissingAuthenticationTokenException", "InvalidClientTokenId",
    }
)  # fmt: skip
_CONTEXT_MARKERS = ("too long", "too many input tokens", "too many tokens", "context length", "context window")


# ---------------------------------------------------------------- provider settings


@dataclass(frozen=True, slots=True)
class Target:
    """Where one deployment's requests go, and what signs them; built once per deployment."""

    url: str
    host: str
    region: str
    credentials: CredentialSource


class CredentialSource:
    """The credentials a signature uses, read on the request path without any I/O.

    botocore refreshes role, SSO and container credentials inside ``get_frozen_credentials()``,
    over the network, when they near expiry: on the event loop that would stall every request in
    flight. For refreshable credentials a daemon thread asks botocore for them every
    ``REFRESH_EVERY`` seconds (botocore refreshes 15 minutes ahead of expiry, so there is ample
    time) and the request path reads the last snapshot.
    """

    REFRESH_EVERY = 60.0

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials
        self.frozen: ReadOnlyCredentials = credentials.get_frozen_credentials()
        if isinstance(credentials, RefreshableCredentials):
            threading.Thread(target=self._keep_fresh, name="bedrock-credentials", daemon=True).start()

    def _keep_fresh(self) -> None:
        while True:
            time.sleep(self.REFRESH_EVERY)
            try:
                self.frozen = self._credentials.get_frozen_credentials()
            except Exception as exc:
                # The snapshot may still be valid for a while; an expired one fails as misconfigured.
                log.warning("AWS credential refresh failed: %s", exc.__class__.__name__)


# Keyed by id() with the object kept alive in the value, so an id is never reused while cached.
_CREDENTIALS: dict[int, tuple[Provider, CredentialSource]] = {}
_TARGETS: dict[int, tuple[Deployment, Target]] = {}


def validate(provider: Provider) -> str | None:
    unknown = sorted(set(provider.options) - OPTIONS)
    if unknown:
        return f"options.{unknown[0]}: unknown bedrock option (expected: {', '.join(sorted(OPTIONS))})"
    if not provider.region:
        return "region is required for bedrock (the AWS region, e.g. us-east-1)"
    if provider.api_key:
        return "bedrock signs requests with AWS credentials: drop api_key and set options.access_key_id_env"
    credentials = _resolve_credentials(provider.options)
    if isinstance(credentials, str):
        return credentials
    try:
        _CREDENTIALS[id(provider)] = (provider, CredentialSource(credentials))
    except BotoCoreError as exc:
        return f"cannot load AWS credentials: {exc}"
    return None


def _resolve_credentials(options: dict[str, str]) -> Credentials | str:
    key_env, secret_env = options.get("access_key_id_env"), options.get("secret_access_key_env")
    token_env = options.get("session_token_env")
    if key_env or secret_env or token_env:
        if not (key_env and secret_env):
            return "options.access_key_id_env and options.secret_access_key_env must be given together"
        values = {}
        for variable in (key_env, secret_env, token_env):
            if variable:
                values[variable] = os.environ.get(variable, "").strip()
                if not values[variable]:
                    return f"options: environment variable {variable} is not set"
        return Credentials(values[key_env], values[secret_env], values.get(token_env or ""))
    try:
        found = botocore.session.Session(profile=options.get("profile")).get_credentials()
    except BotoCoreError as exc:
        return f"cannot load AWS credentials: {exc}"
    if found is None:
        return (
            "no AWS credentials: set options.access_key_id_env and options.secret_access_key_env, "
            "or configure botocore's default chain (AWS_ACCESS_KEY_ID, ~/.aws, an instance role)"
        )
    return found


def target_for(deployment: Deployment) -> Target:
    cached = _TARGETS.get(id(deployment))
    if cached is not None and cached[0] is deployment:
        return cached[1]
    provider = deployment.provider
    known = _CREDENTIALS.get(id(provider))
    if known is not None and known[0] is provider:
        credentials = known[1]
    else:
        # A provider built without validate() (tests, tools): resolve once, here.
        problem = validate(provider)
        if problem is not None:
            raise AttemptError(Outcome.MISCONFIGURED, f"{provider.name}: {problem}")
        credentials = _CREDENTIALS[id(provider)][1]
    # One path segment, every reserved character encoded, as botocore renders {modelId}: the ':'
    # of a versioned id and the '/' of an inference-profile ARN become %3A and %2F.
    url = f"{provider.base_url}/model/{percent_encode(deployment.upstream_model)}/converse-stream"
    target = Target(url, _host(url), provider.region or "", credentials)
    _TARGETS[id(deployment)] = (deployment, target)
    return target


def _host(url: str) -> str:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


# ---------------------------------------------------------------- request


def build_request(deployment: Deployment, body: dict[str, Any]) -> UpstreamRequest:
    target = target_for(deployment)
    content = orjson.dumps(translate(body, deployment.upstream_model))
    headers = sign(target, content, {"host": target.host, "content-type": "application/json"})
    headers["accept"] = STREAM_CONTENT_TYPE  # left unsigned: each signed header costs CPU and guards nothing here
    return UpstreamRequest(target.url, headers, content)


class _SigV4Auth(SigV4Auth):
    """botocore's SigV4 signer without two costs it pays again on every request.

    - The payload hash: botocore reads ``AWSRequest.body``, which re-prepares the whole request on
      each access (twice per signature). Our body is always bytes in memory.
    - The signing key: four HMACs over (secret, day, region, service), the same all day long.
      AWS's SigV4 guide suggests caching it.
    """

    _KEYS: ClassVar[dict[tuple[str, str, str, str], bytes]] = {}

    def payload(self, request: AWSRequest | _SigningRequest) -> str:
        return hashlib.sha256(request.data).hexdigest()

    def signature(self, string_to_sign: str, request: AWSRequest | _SigningRequest) -> str:
        day = request.context["timestamp"][0:8]
        cache_key = (self.credentials.secret_key, day, self._region_name, self._service_name)
        signing_key = self._KEYS.get(cache_key)
        if signing_key is None:
            k_date = self._sign(f"AWS4{self.credentials.secret_key}".encode(), day)
            k_service = self._sign(self._sign(k_date, self._region_name), self._service_name)
            signing_key = self._sign(k_service, "aws4_request")
            if len(self._KEYS) > 64:  # old days and rotated secrets
                self._KEYS.clear()
            self._KEYS[cache_key] = signing_key
        return str(self._sign(signing_key, string_to_sign, hex=True))


class _SigningRequest:
    """What ``SigV4Auth.add_auth`` reads and writes on a request, and nothing else.

    ``AWSRequest`` keeps its headers in an ``email.message.Message``; looking them up and setting
    them took a large share of each signature. Here they are a plain dict of the lower-case names
    the gateway sends, which botocore only ever tests for its own (``Authorization``,
    ``X-Amz-Date``, ``X-Amz-Security-Token``), never present before it signs.
    """

    __slots__ = ("body", "context", "data", "headers", "method", "params", "url")

    def __init__(self, url: str, content: bytes, headers: dict[str, str], method: str = "POST") -> None:
        self.method = method
        self.url = url
        self.data = self.body = content
        self.headers = headers
        self.params: dict[str, str] = {}
        self.context: dict[str, Any] = {}


def sign(target: Target, content: bytes, headers: dict[str, str], method: str = "POST") -> dict[str, str]:
    request = _SigningRequest(target.url, content, headers, method)
    # One frozen set per signature: refreshable (role) credentials rotate between requests.
    _SigV4Auth(target.credentials.frozen, SIGNING_NAME, target.region).add_auth(request)
    return request.headers


# ---------------------------------------------------------------- liveness probe

# The geography prefixes of cross-region inference profiles (``us.anthropic.claude-…``).
_PROFILE_PREFIXES = frozenset({"us", "us-gov", "eu", "apac", "jp", "au", "ca", "global"})
_RUNTIME_HOST = re.compile(r"^(https?://)bedrock-runtime(-fips)?\.")


def control_plane_url(base_url: str) -> str:
    """The ``bedrock`` control-plane endpoint beside a ``bedrock-runtime`` one; any other base URL
    (a proxy, the simulator) is taken to serve both."""
    return _RUNTIME_HOST.sub(r"\1bedrock\2.", base_url, count=1)


def probe_path(model: str) -> str:
    """GetFoundationModel, GetInferenceProfile for a profile, else ListFoundationModels (provisioned
    throughput and custom-model ARNs have no free model-get of their own)."""
    encoded = percent_encode(model)
    if model.startswith("arn:"):
        if ":inference-profile/" in model or ":application-inference-profile/" in model:
            return f"/inference-profiles/{encoded}"
        return f"/foundation-models/{encoded}" if ":foundation-model/" in model else "/foundation-models"
    if model.split(".", 1)[0] in _PROFILE_PREFIXES:
        return f"/inference-profiles/{encoded}"
    return f"/foundation-models/{encoded}"


def probe_request(deployment: Deployment) -> ProbeRequest:
    """A SigV4-signed GET on the control plane: free, and it checks DNS, TLS, the credentials and the model."""
    runtime = target_for(deployment)
    url = control_plane_url(deployment.provider.base_url) + probe_path(deployment.upstream_model)
    target = Target(url, _host(url), runtime.region, runtime.credentials)
    headers = sign(target, b"", {"host": target.host}, method="GET")
    del headers["host"]  # the HTTP client sends it, from the URL
    return ProbeRequest(url, headers)


def client_error(message: str, param: str | None, code: str = "invalid_value") -> Inexpressible:
    return Inexpressible(message, param=param, code=code)


def translate(body: dict[str, Any], model: str = "") -> dict[str, Any]:
    """The Converse request body for an OpenAI chat-completions body."""
    n = body.get("n")
    if n is not None and n != 1:
        raise client_error(
            f"Bedrock Converse returns a single choice: 'n' must be 1 (got {n}).", "n", "unsupported_parameter"
        )
    schema_limits.check_forwarded(body)
    system, turns, history_tools = _messages(body["messages"])
    instruction = _json_instruction(body.get("response_format"))
    if instruction:
        system.append({"text": instruction})
    request: dict[str, Any] = {}
    if system:
        request["system"] = system
    request["messages"] = turns
    inference = _inference_config(body, "anthropic." in model)
    if inference:
        request["inferenceConfig"] = inference
    tool_config = _tool_config(body.get("tools"), body.get("tool_choice"), history_tools)
    if tool_config:
        request["toolConfig"] = tool_config
    return request


def _messages(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """(system blocks, alternating turns, tool names used in the history)."""
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    history_tools: list[str] = []
    for index, message in enumerate(messages):
        role = message.get("role")
        if role in ("system", "developer"):
            system.extend({"text": text} for text in _texts(message.get("content"), index))
            continue
        if role == "user":
            blocks = _user_blocks(message.get("content"), index)
        elif role == "assistant":
            blocks = _assistant_blocks(message, index, history_tools)
        elif role == "tool":
            role, blocks = "user", [_tool_result(message, index)]
            history_tools.append("")  # a result with no call in view still needs a toolConfig
        else:
            raise client_error(
                f"Role {role!r} is not supported by Bedrock: send tool results with role 'tool'.",
                f"messages[{index}].role",
                "unsupported_parameter",
            )
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return system, turns, history_tools


def _texts(content: Any, index: int) -> list[str]:
    if isinstance(content, str):
        return [content] if content else []
    if content is None:
        return []
    if not isinstance(content, list):
        raise client_error("Message content must be a string or an array of parts.", f"messages[{index}].content")
    texts = []
    for part in content:
        text = part.get("text") if isinstance(part, dict) else None
        if isinstance(text, str) and text:
            texts.append(text)
        elif not isinstance(part, dict) or part.get("type") not in ("text", "refusal"):
            raise client_error(
                "Only text parts are allowed in this message.", f"messages[{index}].content", "unsupported_parameter"
            )
    return texts


def _user_blocks(content: Any, index: int) -> list[dict[str, Any]]:
    if not isinstance(content, list):
        return [{"text": text} for text in _texts(content, index)]
    blocks: list[dict[str, Any]] = []
    for position, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            if part.get("text"):
                blocks.append({"text": part["text"]})
        elif kind == "image_url":
            blocks.append(_image(part.get("image_url"), f"messages[{index}].content[{position}].image_url"))
        else:
            raise client_error(
                f"Content part type {kind!r} is not supported by Bedrock (text and image_url are).",
                f"messages[{index}].content[{position}].type",
                "unsupported_parameter",
            )
    return blocks


def _image(image_url: Any, param: str) -> dict[str, Any]:
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    if not isinstance(url, str):
        raise client_error("image_url needs a 'url'.", param)
    if url.startswith(("http://", "https://")):
        raise client_error(
            "Bedrock does not fetch image URLs: send the image inline as a data URL (data:image/png;base64,...).",
            param,
            "unsupported_parameter",
        )
    header, comma, data = url.partition(",")
    media, _, encoding = header.removeprefix("data:").partition(";")
    image_format = _IMAGE_FORMATS.get(media.lower())
    if not url.startswith("data:") or not comma or encoding != "base64" or not data:
        raise client_error("Images must be base64 data URLs (data:image/png;base64,...).", param)
    if image_format is None:
        raise client_error(f"Image type {media!r} is not supported by Bedrock (png, jpeg, gif, webp are).", param)
    # A JSON blob is base64 text already: the data URL's payload goes through without decoding.
    return {"image": {"format": image_format, "source": {"bytes": data}}}


def _assistant_blocks(message: dict[str, Any], index: int, history_tools: list[str]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"text": text} for text in _texts(message.get("content"), index)]
    for position, call in enumerate(message.get("tool_calls") or ()):
        function = call.get("function") if isinstance(call, dict) else None
        param = f"messages[{index}].tool_calls[{position}]"
        if not isinstance(function, dict) or not isinstance(function.get("name"), str) or not function["name"]:
            raise client_error("Each tool call needs 'function.name'.", param)
        name = function["name"]
        history_tools.append(name)
        arguments = _arguments(function.get("arguments"), f"{param}.function.arguments")
        blocks.append({"toolUse": {"toolUseId": _tool_id(call.get("id"), param), "name": name, "input": arguments}})
    return blocks


def _arguments(raw: Any, param: str) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    try:
        value = orjson.loads(raw) if isinstance(raw, str) else raw
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise client_error("Tool call arguments must be a JSON object for Bedrock.", param)
    return value


def _tool_id(value: Any, param: str) -> str:
    if not isinstance(value, str) or not value:
        raise client_error("A tool call id is required.", param)
    if _TOOL_ID.fullmatch(value):
        return value
    # Ids minted by another provider may not fit Converse's pattern: map them the same way each time.
    cleaned = _TOOL_ID_BAD.sub("_", value)
    if len(cleaned) <= 64:
        return cleaned
    return f"{cleaned[:55]}_{hashlib.sha1(value.encode()).hexdigest()[:8]}"


def _tool_result(message: dict[str, Any], index: int) -> dict[str, Any]:
    call_id = _tool_id(message.get("tool_call_id"), f"messages[{index}].tool_call_id")
    text = "".join(_texts(message.get("content"), index))
    return {"toolResult": {"toolUseId": call_id, "content": [{"text": text}]}}


def _json_instruction(response_format: Any) -> str | None:
    if not isinstance(response_format, dict):
        return None
    kind = response_format.get("type")
    if kind == "json_object":
        return JSON_OBJECT_INSTRUCTION
    if kind == "json_schema":
        schema = response_format.get("json_schema")
        schema = schema.get("schema") if isinstance(schema, dict) else None
        return JSON_SCHEMA_INSTRUCTION + orjson.dumps(schema or {}).decode()
    return None


def _inference_config(body: dict[str, Any], claude: bool) -> dict[str, Any]:
    config: dict[str, Any] = {}
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if max_tokens is not None:
        config["maxTokens"] = max_tokens
    temperature = body.get("temperature")
    if temperature is not None:
        config["temperature"] = min(max(temperature, 0), 1)
    top_p = body.get("top_p")
    if top_p is not None and not (claude and temperature is not None):
        config["topP"] = top_p
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else stop
    if stops:
        sequences = [s for s in stops if isinstance(s, str) and s]
        if sequences:
            config["stopSequences"] = sequences
    return config


def _tool_config(tools: Any, choice: Any, history_tools: list[str]) -> dict[str, Any] | None:
    if not tools or choice == "none":
        if not history_tools:
            return None
        # Converse refuses toolUse/toolResult blocks without a toolConfig: offer, never force.
        specs = [_tool_spec(tool, k) for k, tool in enumerate(tools)] if tools else _placeholders(history_tools)
        return {"tools": specs}
    if not isinstance(tools, list):
        raise client_error("'tools' must be an array.", "tools")
    specs = [_tool_spec(tool, k) for k, tool in enumerate(tools)]
    config: dict[str, Any] = {"tools": specs}
    if choice == "auto":
        config["toolChoice"] = {"auto": {}}
    elif choice == "required":
        config["toolChoice"] = {"any": {}}
    elif isinstance(choice, dict):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if name not in {spec["toolSpec"]["name"] for spec in specs}:
            raise client_error(f"tool_choice names {name!r}, which is not in 'tools'.", "tool_choice")
        config["toolChoice"] = {"tool": {"name": name}}
    elif choice is not None:
        raise client_error(f"Invalid tool_choice {choice!r}.", "tool_choice")
    return config


def _tool_spec(tool: Any, position: int) -> dict[str, Any]:
    function = tool.get("function") if isinstance(tool, dict) and tool.get("type", "function") == "function" else None
    if not isinstance(function, dict):
        raise client_error("Bedrock supports function tools only.", f"tools[{position}]", "unsupported_parameter")
    name = function.get("name")
    if not isinstance(name, str) or not _TOOL_NAME.fullmatch(name):
        raise client_error(
            f"Tool name {name!r} is not valid for Bedrock: use 1-64 letters, digits, '_' or '-'.",
            f"tools[{position}].function.name",
        )
    schema = function.get("parameters")
    if schema is None:
        schema = {"type": "object", "properties": {}}
    elif not isinstance(schema, dict) or schema.get("type", "object") != "object":
        raise client_error(
            f"Tool {name!r}: Bedrock needs 'parameters' to be a JSON Schema of type 'object'.",
            f"tools[{position}].function.parameters",
        )
    spec: dict[str, Any] = {"name": name}
    if function.get("description"):
        spec["description"] = function["description"]
    spec["inputSchema"] = {"json": schema}
    return {"toolSpec": spec}


def _placeholders(history_tools: list[str]) -> list[dict[str, Any]]:
    names = dict.fromkeys(name for name in history_tools if name) or {"tool": None}
    schema = {"type": "object", "properties": {}}
    return [{"toolSpec": {"name": name, "inputSchema": {"json": schema}}} for name in names]


# ---------------------------------------------------------------- errors


def classify_error(deployment: Deployment, status: int, body: bytes, headers: Any) -> AttemptError:
    kind, message = _error_details(status, body, headers)
    message = redact(f"{kind}: {message}" if message else f"{kind} (HTTP {status})", *_secrets(deployment))
    error = AttemptError(Outcome.SERVER_ERROR, message, status=status, code=kind)
    if kind in _SERVER_ERRORS or status >= 500 or status == 408:
        return error
    if kind in ("ThrottlingException", "ServiceQuotaExceededException") or status == 429:
        error.failure = Outcome.RATE_LIMITED
        error.retry_after = parse_retry_after(headers)
    elif kind in _MISCONFIGURED or status in (401, 403, 404):
        error.failure = Outcome.MISCONFIGURED
    elif any(marker in message.lower() for marker in _CONTEXT_MARKERS):
        error.failure, error.code, error.param = Outcome.CONTEXT_LENGTH, "context_length_exceeded", "messages"
    elif 400 <= status < 500:
        error.failure, error.error_type = Outcome.CLIENT_ERROR, "invalid_request_error"
    return error


def _error_details(status: int, body: bytes, headers: Any) -> tuple[str, str]:
    """(exception name, message). The name is in ``x-amzn-errortype`` (``Name:namespace``)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    data = data if isinstance(data, dict) else {}
    kind = headers.get("x-amzn-errortype") or data.get("__type") or data.get("code") or f"HTTP{status}"
    kind = str(kind).split(":", 1)[0].rsplit("#", 1)[-1]
    message = data.get("message") or data.get("Message")
    if message is None and not data:
        message = body[:300].decode("utf-8", "replace").strip()
    return kind, str(message or "")


def _secrets(deployment: Deployment) -> tuple[str, ...]:
    known = _CREDENTIALS.get(id(deployment.provider))
    if known is None:
        return ()
    frozen = known[1].frozen
    return (frozen.secret_key, frozen.token or "")


# ---------------------------------------------------------------- answers


def is_stream(content_type: str) -> bool:
    return content_type.startswith(STREAM_CONTENT_TYPE)


class _MemoHeaderParser(EventStreamHeaderParser):
    """botocore's header parser behind a memo. Every stream repeats the same few header blocks
    (``:event-type`` x ``:content-type`` x ``:message-type``), and parsing them byte by byte in
    Python is most of botocore's cost per event. The parsed dicts are shared: read them only."""

    LIMIT = 256

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[bytes, dict[str, Any]] = {}

    def parse(self, data: bytes) -> dict[str, Any]:
        headers = self._seen.get(data)
        if headers is None:
            headers = super().parse(data)
            if len(self._seen) < self.LIMIT:
                self._seen[bytes(data)] = headers
        return headers


_HEADER_PARSER = _MemoHeaderParser()


def _event_buffer() -> EventStreamBuffer:
    buffer = EventStreamBuffer()
    if hasattr(buffer, "_header_parser"):  # private in botocore; without it we only lose the memo
        buffer._header_parser = _HEADER_PARSER
    return buffer


class ConverseStreamDecoder:
    """ConverseStream events -> OpenAI chunks, one per event that carries something."""

    __slots__ = ("_buffer", "_created", "_id", "_model", "_tools", "done", "malformed")

    def __init__(self, model: str) -> None:
        self._buffer: EventStreamBuffer | None = _event_buffer()
        self._id = f"chatcmpl-{random_hex()}"
        self._created = int(time.time())
        self._model = model
        self._tools: dict[Any, int] = {}  # contentBlockIndex -> OpenAI tool_calls index
        self.done = False
        self.malformed = 0

    def feed(self, data: bytes) -> list[Chunk]:
        """The chunks for what this read completed. Text deltas that arrived together (a busy
        worker reads several events at once) become one chunk: the client gets the same text at
        the same moment, and the relay handles one chunk instead of many."""
        buffer = self._buffer
        if buffer is None:
            return []
        buffer.add_data(data)
        chunks: list[Chunk] = []
        texts: list[str] = []
        try:
            for message in buffer:
                text = _text_delta(message)
                if text is not None:
                    texts.append(text)
                    continue
                if texts:
                    chunks.append((None, self._choice({"content": "".join(texts)})))
                    texts = []
                chunk = self._chunk(message)
                if chunk is not None:
                    chunks.append((None, chunk))
        except (ParserError, KeyError, ValueError) as exc:
            # Framing is length-prefixed: after one bad frame nothing further can be trusted.
            self._buffer = None
            self.malformed += 1
            error = {"message": f"corrupt event-stream frame ({exc.__class__.__name__})", "type": "bad_response"}
            if texts:
                chunks.append((None, self._choice({"content": "".join(texts)})))
                texts = []
            chunks.append((None, {"error": error}))
        if texts:
            chunks.append((None, self._choice({"content": "".join(texts)})))
        return chunks

    def flush(self) -> list[Chunk]:
        return []

    def _chunk(self, message: EventStreamMessage) -> dict[str, Any] | None:
        headers = message.headers
        message_type = headers.get(":message-type")
        if message_type != "event":
            if message_type in ("exception", "error"):
                return self._error(message_type, headers, message.payload)
            self.malformed += 1
            return None
        try:
            payload = orjson.loads(message.payload)
        except orjson.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict):
            self.malformed += 1
            return None
        event = headers.get(":event-type")
        if event == "contentBlockDelta":
            return self._delta(payload)
        if event == "contentBlockStart":
            return self._block_start(payload)
        if event == "messageStart":
            return self._choice({"role": "assistant", "content": ""})
        if event == "messageStop":
            return self._choice({}, finish_reason(payload.get("stopReason")))
        if event == "metadata":
            self.done = True
            return self._usage(payload.get("usage"))
        return None  # contentBlockStop, and event types added after this was written

    def _choice(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def _delta(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        delta = payload.get("delta")
        if not isinstance(delta, dict):
            self.malformed += 1
            return None
        text = delta.get("text")
        if isinstance(text, str):
            return self._choice({"content": text})
        tool_use = delta.get("toolUse")
        if isinstance(tool_use, dict):
            index = self._tool_index(payload.get("contentBlockIndex"))
            call = {"index": index, "function": {"arguments": tool_use.get("input") or ""}}
            return self._choice({"tool_calls": [call]})
        reasoning = delta.get("reasoningContent")
        if isinstance(reasoning, dict) and reasoning.get("text"):
            return self._choice({"reasoning_content": reasoning["text"]})
        return None

    def _block_start(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        start = payload.get("start")
        tool_use = start.get("toolUse") if isinstance(start, dict) else None
        if not isinstance(tool_use, dict):
            return None
        index = self._tool_index(payload.get("contentBlockIndex"))
        function = {"name": tool_use.get("name", ""), "arguments": ""}
        call = {"index": index, "id": tool_use.get("toolUseId"), "type": "function", "function": function}
        return self._choice({"tool_calls": [call]})

    def _tool_index(self, block: Any) -> int:
        index = self._tools.get(block)
        if index is None:
            index = self._tools[block] = len(self._tools)
        return index

    def _usage(self, usage: Any) -> dict[str, Any]:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "choices": [],
            "usage": openai_usage(usage if isinstance(usage, dict) else {}),
        }

    def _error(self, message_type: str, headers: dict[str, Any], payload: bytes) -> dict[str, Any]:
        if message_type == "exception":
            kind = str(headers.get(":exception-type", "exception"))
            try:
                text = orjson.loads(payload).get("message", "")
            except (orjson.JSONDecodeError, AttributeError):
                text = payload[:300].decode("utf-8", "replace")
        else:
            kind = str(headers.get(":error-code", message_type))
            text = str(headers.get(":error-message", ""))
        return {"error": {"message": f"{kind}: {text}", "type": kind}}


def _text_delta(message: EventStreamMessage) -> str | None:
    """The text of a ``contentBlockDelta`` text event, the bulk of every answer; None for any other."""
    headers = message.headers
    if headers.get(":event-type") != "contentBlockDelta" or headers.get(":message-type") != "event":
        return None
    try:
        delta = orjson.loads(message.payload).get("delta")
        text = delta.get("text")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return text if type(text) is str else None


def finish_reason(stop_reason: Any) -> str:
    return _FINISH.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def openai_usage(usage: dict[str, Any]) -> dict[str, Any]:
    # Converse's inputTokens leaves out cache reads and writes; OpenAI's prompt_tokens includes them.
    cached = _count(usage, "cacheReadInputTokens")
    prompt = _count(usage, "inputTokens") + cached + _count(usage, "cacheWriteInputTokens")
    completion = _count(usage, "outputTokens")
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    }


def _count(usage: dict[str, Any], key: str) -> int:
    value = usage.get(key)
    return value if isinstance(value, int) else 0


def decoder(deployment: Deployment) -> ConverseStreamDecoder:
    return ConverseStreamDecoder(deployment.upstream_model)


def parse_completion(deployment: Deployment, body: bytes) -> dict[str, Any]:
    """A whole ``converse`` answer as an OpenAI chat.completion."""
    try:
        answer = orjson.loads(body)
        blocks = answer["output"]["message"]["content"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise AttemptError(Outcome.BAD_RESPONSE, f"{deployment.provider.name} sent an unreadable answer") from None
    texts, calls = [], []
    for block in blocks:
        if "text" in block:
            texts.append(block["text"])
        elif "toolUse" in block:
            tool_use = block["toolUse"]
            function = {"name": tool_use.get("name", ""), "arguments": orjson.dumps(tool_use.get("input", {})).decode()}
            calls.append({"id": tool_use.get("toolUseId"), "type": "function", "function": function})
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts or not calls else None}
    if calls:
        message["tool_calls"] = calls
    return {
        "id": f"chatcmpl-{random_hex()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": deployment.upstream_model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(answer.get("stopReason"))}],
        "usage": openai_usage(answer.get("usage") or {}),
    }


def default_base_url(options: dict[str, str], region: str | None) -> str | None:
    return f"https://bedrock-runtime.{region}.amazonaws.com" if region else None


class _BedrockAdapter(BaseAdapter):
    validate = staticmethod(validate)
    default_base_url = staticmethod(default_base_url)
    build_request = staticmethod(build_request)
    probe_request = staticmethod(probe_request)
    classify_error = staticmethod(classify_error)
    is_stream = staticmethod(is_stream)
    decoder = staticmethod(decoder)
    parse_completion = staticmethod(parse_completion)


ADAPTER = _BedrockAdapter()
