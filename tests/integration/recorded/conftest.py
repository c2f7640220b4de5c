"""Fixtures of the recorded-device suite: one real snmpsim for the session (see snmpsim_peer)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.recorded.snmpsim_peer import SnmpsimPeer, start_snmpsim


@pytest.fixture(scope="session")
def snmpsim_peer() -> Iterator[SnmpsimPeer]:
    """snmpsim serving every recording in tests/data/snmprec, ticking, for the whole session."""
    with start_snmpsim() as peer:
        yield peer
