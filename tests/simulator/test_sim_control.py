"""Fault schedules and scoping, request accounting and the control API."""

from __future__ import annotations

import random
import time

import httpx
import pytest

from simulator.faults import FaultSpecError, Outage, in_outage, parse_fault
from simulator.harness import SimulatorServer
from tests.simulator.helpers import MODEL, chat_body

OTHER_MODEL = "llama-3.3-70b"


def status_of(http: httpx.Client, provider: str = "alpha", model: str = MODEL) -> int:
    return http.post(f"/{provider}/v1/chat/completions", json=chat_body(model)).status_code


# ---------------------------------------------------------------- schedules


def test_times_limits_the_fault_to_the_next_n_requests(
    sim: SimulatorServer, http: httpx.Client
) -> None:
    sim.set_fault("alpha", status=500, times=2)

    assert [status_of(http) for _ in range(4)] == [500, 500, 200, 200]


def test_outage_fails_only_during_the_down_part_of_each_period(
    sim: SimulatorServer, http: httpx.Client
) -> None:
    set_at = time.monotonic()
    sim.set_fault("alpha", status=503, outage={"down": 0.3, "every": 0.6})

    def status_at(offset: float) -> int:
        time.sleep(max(0.0, set_at + offset - time.monotonic()))
        return status_of(http)

    assert [status_at(0.05), status_at(0.45), status_at(0.7)] == [503, 200, 503]


@pytest.mark.parametrize(
    ("offset", "down"),
    [(0.0, True), (9.99, True), (10.0, False), (29.9, False), (30.0, True), (95.0, True)],
)
def test_outage_window_arithmetic(offset: float, down: bool) -> None:
    outage = Outage(down=10, every=30, offset=5)

    assert in_outage(outage, origin=100.0, now=105.0 + offset) is down


def test_availability_fails_a_seeded_reproducible_share(
    sim: SimulatorServer, http: httpx.Client
) -> None:
    rng = random.Random(42)
    expected = [503 if rng.random() >= 0.7 else 200 for _ in range(40)]

    sim.set_fault("alpha", status=503, availability=0.7, seed=42)
    first = [status_of(http) for _ in range(40)]
    sim.set_fault("alpha", status=503, availability=0.7, seed=42)
    second = [status_of(http) for _ in range(40)]

    assert first == second == expected
    assert 4 <= first.count(503) <= 20


# ---------------------------------------------------------------- scoping


def test_model_scoped_fault_beats_provider_wide_fault(
    sim: SimulatorServer, http: httpx.Client
) -> None:
    sim.set_fault("alpha", status=503)
    sim.set_fault("alpha", model=OTHER_MODEL, status=429)

    assert status_of(http, model=MODEL) == 503
    assert status_of(http, model=OTHER_MODEL) == 429


def test_model_scoped_fault_leaves_other_models_alone(
    sim: SimulatorServer, http: httpx.Client
) -> None:
    sim.set_fault("alpha", model=OTHER_MODEL, kind="auth")

    assert status_of(http, model=MODEL) == 200
    assert status_of(http, model=OTHER_MODEL) == 401


def test_faults_are_independent_per_provider(sim: SimulatorServer, http: httpx.Client) -> None:
    sim.set_fault("alpha", status=502)

    assert status_of(http, "alpha") == 502
    assert status_of(http, "beta") == 200


def test_setting_a_fault_replaces_the_previous_one(
    sim: SimulatorServer, http: httpx.Client
) -> None:
    sim.set_fault("alpha", status=502)
    sim.set_fault("alpha", status=504)

    assert status_of(http) == 504


def test_clearing_faults_per_provider_and_globally(
    sim: SimulatorServer, http: httpx.Client
) -> None:
    sim.set_fault("alpha", status=500)
    sim.set_fault("beta", status=500)

    sim.clear_faults("alpha")
    assert (status_of(http, "alpha"), status_of(http, "beta")) == (200, 500)
    sim.clear_faults()
    assert status_of(http, "beta") == 200


# ---------------------------------------------------------------- accounting


def test_attempts_are_counted_per_provider_and_model(
    sim: SimulatorServer, http: httpx.Client
) -> None:
    sim.set_fault("beta", kind="reset")
    for _ in range(3):
        status_of(http, "alpha", MODEL)
    status_of(http, "alpha", OTHER_MODEL)
    with pytest.raises(httpx.TransportError):
        status_of(http, "beta", MODEL)

    assert sim.attempts("alpha", MODEL) == 3
    assert sim.attempts("alpha", OTHER_MODEL) == 1
    assert sim.attempts("alpha") == 4
    assert sim.attempts("beta", MODEL) == 1
    assert sim.attempts("gamma") == 0
    assert sim.stats() == {
        "attempts": {f"alpha/{MODEL}": 3, f"alpha/{OTHER_MODEL}": 1, f"beta/{MODEL}": 1},
        "by_provider": {"alpha": 4, "beta": 1},
        "probes": {},
    }


def test_invalid_requests_count_as_attempts(sim: SimulatorServer, http: httpx.Client) -> None:
    http.post("/alpha/v1/chat/completions", content=b"{oops")
    http.post("/alpha/v1/chat/completions", json={"model": MODEL})

    assert sim.attempts("alpha") == 2 and sim.attempts("alpha", MODEL) == 1


def test_reset_clears_counters_and_faults(sim: SimulatorServer, http: httpx.Client) -> None:
    sim.set_fault("alpha", status=500)
    status_of(http)

    sim.reset()

    assert sim.stats() == {"attempts": {}, "by_provider": {}, "probes": {}}
    assert status_of(http) == 200


def test_last_request_records_headers_and_body(sim: SimulatorServer, http: httpx.Client) -> None:
    body = chat_body(temperature=0.2)
    http.post("/alpha/v1/chat/completions", json=body,
              headers={"Authorization": "Bearer sk-upstream", "X-Trace": "t1"})  # fmt: skip

    seen = sim.last_request("alpha")

    assert seen["headers"]["authorization"] == "Bearer sk-upstream"
    assert seen["headers"]["x-trace"] == "t1"
    assert seen["body"] == body


def test_last_request_for_an_unseen_provider_raises(sim: SimulatorServer) -> None:
    with pytest.raises(LookupError):
        sim.last_request("nobody")


# ---------------------------------------------------------------- control API validation


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "explode"},
        {"status": 200},
        {"times": 0},
        {"availability": 1.5},
        {"outage": {"down": 1}},
        {"headers_delay": -1},
        {"colour": "red"},
    ],
)
def test_invalid_fault_specs_are_rejected(sim: SimulatorServer, spec: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        sim.set_fault("alpha", **spec)
    with pytest.raises(FaultSpecError):
        parse_fault(spec)


def test_fault_listing_shows_installed_faults(sim: SimulatorServer) -> None:
    sim.set_fault("alpha", model=MODEL, status=429, retry_after=2, times=3)

    (fault,) = sim.control.get("/_control/faults").json()["faults"]

    assert fault == {
        "provider": "alpha", "model": MODEL, "remaining": 3,
        "spec": {"status": 429, "retry_after": "2", "times": 3},
    }  # fmt: skip


def test_harness_can_be_started_and_stopped_explicitly() -> None:
    server = SimulatorServer().start()
    try:
        assert server.url_for("x") == f"{server.base_url}/x/v1"
        assert httpx.get(server.base_url + "/_control/health").json() == {"status": "ok"}
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.base_url + "/_control/health")
