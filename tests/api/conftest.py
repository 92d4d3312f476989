from __future__ import annotations

# The accounts suite's fixtures: the verified cast, and account tables emptied in each test.
from tests.accounts.conftest import _account_tables_start_empty, verified

__all__ = ["_account_tables_start_empty", "verified"]
