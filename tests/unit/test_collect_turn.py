"""`Collector._turn`: bulk work waiting for trap work to settle can still be cancelled at the
moment the wait ends (a collector stopping while its last trap batch settles)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

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
