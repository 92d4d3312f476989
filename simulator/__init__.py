"""LLM provider simulator: impersonates OpenAI-compatible providers with canned answers and
injectable faults, for tests, the demo mode and benchmarks.

Run it with `python -m simulator`, or in-process with `simulator.harness.SimulatorServer`.
"""

from simulator.harness import SimulatorServer

__all__ = ["SimulatorServer"]
