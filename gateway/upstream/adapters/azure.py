"""Azure OpenAI: OpenAI's wire format at deployment URLs, with ``api-version`` and the ``api-key`` header.

    POST {base_url}/openai/deployments/{deployment}/chat/completions?api-version={api_version}

``base_url`` is the resource endpoint (``https://NAME.openai.azure.com``); a resource lives in one
region, so each regional endpoint is one provider entry. A deployment's ``model`` is the Azure
deployment name, which the URL carries; the body's ``model`` is ignored by Azure.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from gateway.upstream.adapters.openai import ProfiledAdapter
from gateway.upstream.profiles import OPENAI_ONLY, REASONING_RULE, Profile

if TYPE_CHECKING:
    from gateway.conf.domain import Provider

# The latest GA version of the deployment-based data-plane inference API.
DEFAULT_API_VERSION = "2024-10-21"
_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")

PROFILE = Profile(
    kind="azure",
    title="Azure OpenAI",
    docs="https://learn.microsoft.com/azure/ai-foundry/openai/reference",
    path="/openai/deployments/{model}/chat/completions?api-version={api_version}",
    probe_path="/openai/models?api-version={api_version}",
    auth_header="api-key",
    auth_prefix="",
    option_defaults=(("api_version", DEFAULT_API_VERSION),),
    # The GA api-version rejects fields it does not know ("Unrecognized request argument").
    drop=OPENAI_ONLY,
    # Matched against the deployment name, which operators usually name after the model.
    model_rules=(REASONING_RULE,),
    notes="One provider entry per regional resource; base_url is the resource endpoint.",
)


def validate(provider: Provider) -> str | None:
    version = provider.options.get("api_version", DEFAULT_API_VERSION)
    if not _API_VERSION.match(version):
        return f"options.api_version: {version!r} is not an Azure OpenAI API version (like {DEFAULT_API_VERSION})"
    if provider.base_url.endswith("/openai") or "/deployments" in provider.base_url:
        return "base_url: give the resource endpoint only (https://NAME.openai.azure.com), without /openai/..."
    return None


ADAPTER = ProfiledAdapter(PROFILE, validate)
