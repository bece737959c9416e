"""judgekit's pytest plugin (registered as the ``pytest11`` entry point).

pytest imports this module in every session once judgekit is installed, so
it imports nothing heavy at module level and does nothing unless a test
uses its fixtures.
"""
from __future__ import annotations


def pytest_addoption(parser) -> None:
    group = parser.getgroup("judgekit", "judgekit quality gates")
    group.addoption("--judgekit-update-baseline", action="store_true", default=False,
                    help="write the current judgekit scores to the baseline files instead of comparing with them")
