"""`Collector._turn`: bulk work waiting for trap work to settle can still be cancelled at the
moment the wait ends (a collector stopping while its last trap batch settles). And
`Collector._poll_round`: a round's polls give way to trap work the same way."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from ixops import collect
from ixops.collect import Collector


def test_bulk_work_waiting_for_calm_is_cancelled_when_calm_comes_with_the_cancel() -> None:
    async def scenario() -> str:
        state = SimpleNamespace(_urgent=0, _calm=asyncio.Event(), _db_lock=asyncio.Lock())
        entered = asyncio.Event()

        async def bulk() -> None:
            async with Collector._turn(state, urgent=False):  # type: ignore[arg-type]
                entered.set()
            await asyncio.Event().wait()  # then idle, as the confirm loop waits for traps

        task = asyncio.create_task(bulk())
        await asyncio.sleep(0.01)  # waiting for the calm
        state._calm.set()  # the last trap batch settles ...
        task.cancel()  # ... as the collector stops its loops
        try:
            await asyncio.wait_for(asyncio.shield(task), 2.0)
        except asyncio.CancelledError:
            return "cancelled"
        except TimeoutError:
            task.cancel()
            return "the cancellation was lost"
        return "returned"

    assert asyncio.run(scenario()) == "cancelled"


def test_a_rounds_polls_wait_for_trap_work_to_settle_but_not_for_ever() -> None:
    """`Collector._poll_round`: while trap work is waiting or running (no calm) a device's poll
    does not start, so the poller's CPU leaves the GIL to the trap path; once calm comes the
    polls go on, and with no calm at all they go on after POLL_YIELD_S."""

    async def scenario() -> tuple[list[str], list[str], float]:
        started: list[str] = []

        class Poller:
            async def poll_interfaces(self, target: SimpleNamespace) -> str:
                started.append(target.device)
                return target.device

        state = SimpleNamespace(_calm=asyncio.Event(), poller=Poller())
        targets = [SimpleNamespace(device=f"sw{n}") for n in range(3)]
        task = asyncio.create_task(Collector._poll_round(state, targets))  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        held_back = list(started)
        state._calm.set()  # the trap work settles
        results = list(await task)
        # No calm at all: the polls wait POLL_YIELD_S, then go on.
        state._calm.clear()
        began = asyncio.get_running_loop().time()
        await Collector._poll_round(state, targets)  # type: ignore[arg-type]
        return held_back, results, asyncio.get_running_loop().time() - began

    held_back, results, waited = asyncio.run(scenario())
    assert held_back == []
    assert results == ["sw0", "sw1", "sw2"]
    assert collect.POLL_YIELD_S <= waited < collect.POLL_YIELD_S + 1.0
