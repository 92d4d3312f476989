"""Per-provider profiles for the OpenAI chat-completions wire format.

Most providers speak OpenAI's chat completions with small differences: the base URL, how the key
is sent, a parameter they reject or spell differently, whether the stream can carry usage. A
profile records those differences as data; ``gateway.upstream.adapters.openai`` turns a profile and a
deployment into a precomputed request shape once, at start-up. Every parameter a profile drops
or maps is listed per provider in docs/providers.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Options every profiled provider accepts, on top of the profile's own.
COMMON_OPTIONS = ("drop_params", "stream_usage", "allow_store")
_SWITCHES = ("stream_usage", "allow_store")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")

# OpenAI's reasoning models reject the sampling parameters and want max_completion_tokens.
_REASONING_DROPS = frozenset(
    {"temperature", "top_p", "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs", "logit_bias"}
)
_MAX_TOKENS_NEW = (("max_tokens", "max_completion_tokens"),)
_MAX_TOKENS_OLD = (("max_completion_tokens", "max_tokens"),)
# OpenAI-only request fields that most other providers reject as unknown.
OPENAI_ONLY = frozenset({"store", "metadata", "service_tier", "prediction", "modalities", "audio"})


@dataclass(frozen=True, slots=True)
class ModelRule:
    """Extra quirks of some of a provider's models, matched by a prefix of the model id."""

    prefixes: tuple[str, ...]
    drop: frozenset[str] = frozenset()
    rename: tuple[tuple[str, str], ...] = ()
    exclude: tuple[str, ...] = ()

    def matches(self, model: str) -> bool:
        return model.startswith(self.prefixes) and not (self.exclude and model.startswith(self.exclude))


REASONING_RULE = ModelRule(("o1", "o3", "o4", "gpt-5"), _REASONING_DROPS, _MAX_TOKENS_NEW, exclude=("gpt-5-chat",))


@dataclass(frozen=True, slots=True)
class Profile:
    kind: str
    title: str
    docs: str
    # Default base URL; ``{option}`` placeholders are filled from the provider's options.
    base_url: str | None = None
    # Appended to the base URL; may use ``{model}`` (the upstream model id) and ``{option}``.
    path: str = "/chat/completions"
    # The liveness probe's GET (the model list), appended to the base URL; may use ``{option}``.
    probe_path: str = "/models"
    auth_header: str = "authorization"
    auth_prefix: str = "Bearer "
    headers: tuple[tuple[str, str], ...] = ()
    # (option, header): the header is sent with the option's value when the option is set.
    option_headers: tuple[tuple[str, str], ...] = ()
    options: tuple[str, ...] = ()
    option_defaults: tuple[tuple[str, str], ...] = ()
    drop: frozenset[str] = frozenset()
    rename: tuple[tuple[str, str], ...] = ()
    # False: the provider rejects or ignores stream_options.include_usage. The gateway then sends
    # no stream_options, keeps any usage the provider streams anyway, and estimates it otherwise.
    stream_usage: bool = True
    multiple_choices: bool = True  # honours n > 1
    message_names: bool = True  # accepts messages[].name
    # Tool call ids must be exactly 9 letters or digits (Mistral). Ids minted elsewhere (another
    # provider's, before a failover) are mapped to such an id, the same way every time.
    short_tool_ids: bool = False
    max_temperature: float | None = None
    model_rules: tuple[ModelRule, ...] = ()
    notes: str = ""
    known_options: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        named = {o for o, _ in self.option_headers} | {o for o, _ in self.option_defaults}
        placeholders = set(_PLACEHOLDER.findall(f"{self.base_url or ''}{self.path}")) - {"model"}
        object.__setattr__(self, "known_options", frozenset({*self.options, *named, *placeholders, *COMMON_OPTIONS}))

    def option_values(self, options: dict[str, str]) -> dict[str, str]:
        return {**dict(self.option_defaults), **options}

    def default_base_url(self, options: dict[str, str]) -> str | None:
        """The base URL when the config gives none; ValueError names a missing option."""
        if self.base_url is None:
            return None
        values = self.option_values(options)
        missing = [name for name in _PLACEHOLDER.findall(self.base_url) if name not in values]
        if missing:
            raise ValueError(f"options.{missing[0]}: is required for {self.title}'s default base_url (or set base_url)")
        return self.base_url.format(**values)

    def check_options(self, options: dict[str, str]) -> str | None:
        unknown = sorted(set(options) - self.known_options)
        if unknown:
            known = ", ".join(sorted(self.known_options))
            return f"options.{unknown[0]}: unknown option for kind {self.kind} (known: {known})"
        for switch in _SWITCHES:
            if options.get(switch, "true") not in ("true", "false"):
                return f"options.{switch}: must be true or false"
        return None


def _drops(*names: str) -> frozenset[str]:
    return frozenset(names)


_PROFILES = (
    Profile(
        kind="openai",
        title="OpenAI",
        base_url="https://api.openai.com/v1",
        docs="https://platform.openai.com/docs/api-reference/chat",
        option_headers=(("organization", "openai-organization"), ("project", "openai-project")),
        model_rules=(REASONING_RULE,),
        notes="Reasoning models (o1, o3, o4-mini, gpt-5) get max_completion_tokens and no sampling parameters.",
    ),
    Profile(
        kind="groq",
        title="Groq",
        base_url="https://api.groq.com/openai/v1",
        docs="https://console.groq.com/docs/openai",
        drop=_drops("logprobs", "top_logprobs", "logit_bias") | OPENAI_ONLY,
        multiple_choices=False,
        message_names=False,
        notes="Rejects logprobs, top_logprobs, logit_bias, messages[].name and n > 1.",
    ),
    Profile(
        kind="together",
        title="Together AI",
        base_url="https://api.together.xyz/v1",
        docs="https://docs.together.ai/docs/openai-api-compatibility",
        drop=OPENAI_ONLY,
    ),
    Profile(
        kind="fireworks",
        title="Fireworks AI",
        base_url="https://api.fireworks.ai/inference/v1",
        docs="https://docs.fireworks.ai/tools-sdks/openai-compatibility",
        drop=OPENAI_ONLY,
        notes="Model ids are paths: accounts/fireworks/models/<model>.",
    ),
    Profile(
        kind="deepinfra",
        title="DeepInfra",
        base_url="https://api.deepinfra.com/v1/openai",
        docs="https://deepinfra.com/docs/openai_api",
        drop=OPENAI_ONLY,
    ),
    Profile(
        kind="mistral",
        title="Mistral AI",
        base_url="https://api.mistral.ai/v1",
        docs="https://docs.mistral.ai/api/",
        drop=_drops("logprobs", "top_logprobs", "logit_bias", "user", "parallel_tool_calls") | OPENAI_ONLY,
        rename=(*_MAX_TOKENS_OLD, ("seed", "random_seed")),
        stream_usage=False,
        short_tool_ids=True,
        notes=(
            "Unknown fields are a 422; usage arrives in the last chunk without stream_options; tool call ids "
            "from other providers are mapped to the 9-character ids Mistral requires."
        ),
    ),
    Profile(
        kind="xai",
        title="xAI",
        base_url="https://api.x.ai/v1",
        docs="https://docs.x.ai/docs/guides/chat",
        drop=_drops("store", "metadata", "service_tier", "prediction", "modalities", "audio"),
        model_rules=(ModelRule(("grok-3-mini", "grok-4"), _drops("presence_penalty", "frequency_penalty", "stop")),),
        notes="Grok reasoning models reject presence_penalty, frequency_penalty and stop.",
    ),
    Profile(
        kind="deepseek",
        title="DeepSeek",
        base_url="https://api.deepseek.com",
        docs="https://api-docs.deepseek.com/api/create-chat-completion",
        drop=_drops("logit_bias", "parallel_tool_calls", "seed", "user") | OPENAI_ONLY,
        rename=_MAX_TOKENS_OLD,
        multiple_choices=False,
        model_rules=(ModelRule(("deepseek-reasoner",), _drops("logprobs", "top_logprobs")),),
        notes="deepseek-reasoner rejects logprobs; n is not supported.",
    ),
    Profile(
        kind="perplexity",
        title="Perplexity",
        base_url="https://api.perplexity.ai",
        docs="https://docs.perplexity.ai/api-reference/chat-completions-post",
        drop=_drops(
            "logprobs",
            "top_logprobs",
            "logit_bias",
            "seed",
            "stop",
            "tools",
            "tool_choice",
            "parallel_tool_calls",
            "user",
        )
        | OPENAI_ONLY,
        rename=_MAX_TOKENS_OLD,
        stream_usage=False,
        multiple_choices=False,
        notes="Sonar models have no tool calling; tools are dropped. Usage is in every streamed chunk.",
    ),
    Profile(
        kind="cerebras",
        title="Cerebras",
        base_url="https://api.cerebras.ai/v1",
        docs="https://inference-docs.cerebras.ai/resources/openai",
        drop=_drops("frequency_penalty", "presence_penalty", "logit_bias", "parallel_tool_calls") | OPENAI_ONLY,
        multiple_choices=False,
        notes="Rejects frequency_penalty, presence_penalty, logit_bias, parallel_tool_calls, service_tier.",
    ),
    Profile(
        kind="openrouter",
        title="OpenRouter",
        base_url="https://openrouter.ai/api/v1",
        docs="https://openrouter.ai/docs/api-reference/overview",
        option_headers=(("http_referer", "http-referer"), ("app_title", "x-title")),
        notes="Normalises parameters per upstream itself; http_referer/app_title identify your app.",
    ),
    Profile(
        kind="nebius",
        title="Nebius AI Studio (Token Factory)",
        base_url="https://api.tokenfactory.nebius.com/v1",
        docs="https://docs.tokenfactory.nebius.com/",
        drop=OPENAI_ONLY,
        notes="Accounts from before the Token Factory rename may use https://api.studio.nebius.com/v1.",
    ),
    Profile(
        kind="novita",
        title="Novita AI",
        base_url="https://api.novita.ai/v3/openai",
        docs="https://novita.ai/docs/guides/llm-api",
        drop=OPENAI_ONLY,
    ),
    Profile(
        kind="sambanova",
        title="SambaNova Cloud",
        base_url="https://api.sambanova.ai/v1",
        docs="https://docs.sambanova.ai/cloud/docs/capabilities/openai-compatibility",
        drop=_drops("logprobs", "top_logprobs", "logit_bias", "presence_penalty", "frequency_penalty") | OPENAI_ONLY,
        rename=_MAX_TOKENS_OLD,
        multiple_choices=False,
    ),
    Profile(
        kind="moonshot",
        title="Moonshot AI (Kimi)",
        base_url="https://api.moonshot.ai/v1",
        docs="https://platform.moonshot.ai/docs/api/chat",
        drop=_drops("logit_bias", "logprobs", "top_logprobs") | OPENAI_ONLY,
        rename=_MAX_TOKENS_OLD,
        max_temperature=1.0,
        notes="temperature is limited to [0, 1]; larger values are clamped to 1.",
    ),
    Profile(
        kind="dashscope",
        title="Alibaba Cloud Model Studio (DashScope, international)",
        base_url="https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        docs="https://www.alibabacloud.com/help/en/model-studio/compatibility-of-openai-with-dashscope",
        drop=_drops("logit_bias") | OPENAI_ONLY,
        rename=_MAX_TOKENS_OLD,
        notes="Singapore region; for Beijing set base_url https://dashscope.aliyuncs.com/compatible-mode/v1.",
    ),
    Profile(
        kind="zai",
        title="Z.ai (GLM)",
        base_url="https://api.z.ai/api/paas/v4",
        docs="https://docs.z.ai/api-reference/llm/chat-completion",
        drop=_drops(
            "logprobs",
            "top_logprobs",
            "logit_bias",
            "presence_penalty",
            "frequency_penalty",
            "seed",
            "parallel_tool_calls",
        )
        | OPENAI_ONLY,
        rename=(*_MAX_TOKENS_OLD, ("user", "user_id")),
        stream_usage=False,
        multiple_choices=False,
        notes="Usage arrives in the last streamed chunk without stream_options.",
    ),
    Profile(
        kind="nvidia",
        title="NVIDIA NIM",
        base_url="https://integrate.api.nvidia.com/v1",
        docs="https://docs.api.nvidia.com/nim/reference/llm-apis",
        drop=_drops("logit_bias", "parallel_tool_calls") | OPENAI_ONLY,
        rename=_MAX_TOKENS_OLD,
        notes="Also the profile for a self-hosted NIM container: set base_url to it.",
    ),
    Profile(
        kind="cloudflare",
        title="Cloudflare Workers AI",
        base_url="https://api.cloudflare.com/client/v4/accounts/{account_id}/ai/v1",
        docs="https://developers.cloudflare.com/workers-ai/configuration/open-ai-compatibility/",
        drop=_drops("logprobs", "top_logprobs", "logit_bias", "parallel_tool_calls", "user") | OPENAI_ONLY,
        rename=_MAX_TOKENS_OLD,
        stream_usage=False,
        multiple_choices=False,
        notes="The account id goes in the URL (options.account_id); the key is an API token.",
    ),
    Profile(
        kind="hyperbolic",
        title="Hyperbolic",
        base_url="https://api.hyperbolic.xyz/v1",
        docs="https://docs.hyperbolic.xyz/docs/rest-api",
        drop=_drops("logit_bias", "parallel_tool_calls") | OPENAI_ONLY,
        rename=_MAX_TOKENS_OLD,
    ),
    Profile(
        kind="cohere",
        title="Cohere (Compatibility API)",
        base_url="https://api.cohere.ai/compatibility/v1",
        docs="https://docs.cohere.com/docs/compatibility-api",
        drop=_drops("logit_bias", "logprobs", "top_logprobs", "parallel_tool_calls", "user") | OPENAI_ONLY,
        rename=_MAX_TOKENS_OLD,
        stream_usage=False,
        multiple_choices=False,
        notes="Unsupported: store, metadata, logit_bias, top_logprobs, n, modalities, prediction, audio, service_tier.",
    ),
    Profile(
        kind="vllm",
        title="vLLM (self-hosted)",
        base_url="http://localhost:8000/v1",
        docs="https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html",
        notes="Full OpenAI parameter set; the key is whatever vllm serve --api-key was given, if any.",
    ),
    Profile(
        kind="ollama",
        title="Ollama (self-hosted)",
        base_url="http://localhost:11434/v1",
        docs="https://github.com/ollama/ollama/blob/main/docs/openai.md",
        drop=_drops("logit_bias", "logprobs", "top_logprobs", "parallel_tool_calls", "user") | OPENAI_ONLY,
        rename=_MAX_TOKENS_OLD,
        multiple_choices=False,
    ),
    Profile(
        kind="lmstudio",
        title="LM Studio (self-hosted)",
        base_url="http://localhost:1234/v1",
        docs="https://lmstudio.ai/docs/app/api/endpoints/openai",
        drop=_drops("logit_bias", "logprobs", "top_logprobs", "parallel_tool_calls") | OPENAI_ONLY,
        rename=_MAX_TOKENS_OLD,
        multiple_choices=False,
    ),
    Profile(
        kind="custom",
        title="Any OpenAI-compatible server",
        docs="https://platform.openai.com/docs/api-reference/chat",
        options=("auth_header",),
        notes="base_url is required; options.auth_header sends the key bare in that header instead of Bearer.",
    ),
)

PROFILES: dict[str, Profile] = {profile.kind: profile for profile in _PROFILES}


def parse_param_list(value: str | None) -> tuple[str, ...]:
    """``options.drop_params``: a comma-separated list of request fields."""
    if not value:
        return ()
    return tuple(name.strip() for name in value.split(",") if name.strip())
