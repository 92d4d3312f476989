"""Our SigV4 signer skips botocore's per-request re-preparation and key derivation: same signatures."""

from __future__ import annotations

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from gateway.upstream.adapters import bedrock

URL = "https://bedrock-runtime.us-east-1.amazonaws.com/model/us.amazon.nova-lite-v1%3A0/converse-stream"
BODY = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'
FIRST = Credentials("AKIAFIRST00000000001", "first/secret/0000000000000000000000000000")
SECOND = Credentials("AKIASECOND0000000001", "second/secret/000000000000000000000000000")


def signature(signer_class: type[SigV4Auth], credentials: Credentials, region: str, timestamp: str) -> str:
    request = AWSRequest(method="POST", url=URL, data=BODY, headers={"content-type": "application/json"})
    request.context["timestamp"] = timestamp
    signer = signer_class(credentials, "bedrock", region)
    canonical = signer.canonical_request(request)
    return str(signer.signature(signer.string_to_sign(request, canonical), request))


@pytest.mark.parametrize(
    ("credentials", "region", "timestamp"),
    [
        (FIRST, "us-east-1", "20261125T101500Z"),
        (FIRST, "us-east-1", "20261126T000001Z"),  # the next day: a new signing key
        (FIRST, "eu-west-1", "20261125T101500Z"),
        (SECOND, "us-east-1", "20261125T101500Z"),  # a rotated secret on the same day
        (FIRST, "us-east-1", "20261125T101500Z"),  # back to the first: served from the cache
    ],
)
def test_signature_matches_botocore_for_every_day_region_and_secret(
    credentials: Credentials, region: str, timestamp: str
) -> None:
    ours = signature(bedrock._SigV4Auth, credentials, region, timestamp)
    assert ours == signature(SigV4Auth, credentials, region, timestamp)


def test_payload_hash_is_the_body_sha256_as_botocore_computes_it() -> None:
    request = AWSRequest(method="POST", url=URL, data=BODY, headers={})
    ours = bedrock._SigV4Auth(FIRST, "bedrock", "us-east-1").payload(request)
    assert ours == SigV4Auth(FIRST, "bedrock", "us-east-1").payload(request)


def test_sign_produces_the_authorization_plain_botocore_computes() -> None:
    source = bedrock.CredentialSource(FIRST)
    target = bedrock.Target(URL, "bedrock-runtime.us-east-1.amazonaws.com", "us-east-1", source)
    headers = bedrock.sign(target, BODY, {"host": target.host, "content-type": "application/json"})
    amz_date = headers["X-Amz-Date"]
    request = AWSRequest(
        method="POST", url=URL, data=BODY, headers={"host": target.host, "content-type": "application/json"}
    )
    request.headers["X-Amz-Date"] = amz_date
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(FIRST, "bedrock", "us-east-1")
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    assert headers["Authorization"] == (
        f"AWS4-HMAC-SHA256 Credential={FIRST.access_key}/{amz_date[:8]}/us-east-1/bedrock/aws4_request, "
        f"SignedHeaders=content-type;host;x-amz-date, Signature={expected}"
    )
