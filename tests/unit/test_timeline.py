"""A flap's link transitions read as one line; everything around them stays as it is."""

from __future__ import annotations

import datetime as dt

from tickets.models import EntryKind, TicketEntry
from tickets.timeline import LinkRun, compact

T0 = dt.datetime(2026, 12, 2, 7, 12, 53, 716864, tzinfo=dt.UTC)


def entry(seconds: int, kind: EntryKind, value: str | None = None, body: str = "") -> TicketEntry:
    return TicketEntry(
        ticket_id=1,
        at=T0 + dt.timedelta(seconds=seconds),
        kind=kind.value,
        actor="system",
        public=True,
        value=value,
        body=body,
    )


def test_a_run_of_link_transitions_is_one_line_in_beijing_time() -> None:
    opened = entry(0, EntryKind.OPENED, "default")
    first = entry(0, EntryKind.EVENT, "link_down")
    flap = [first]
    for i in range(1, 6):
        flap.append(entry(20 * i - 10, EntryKind.RECOVERY, "10"))
        flap.append(entry(20 * i, EntryKind.EVENT, "link_down", "fault returned: link_down"))
    reply = entry(130, EntryKind.PUBLIC_REPLY, body="looking at the optics")
    up = entry(140, EntryKind.RECOVERY, "10")
    shown = compact([opened, *flap, reply, up])
    assert shown[0] is opened
    run = shown[1]
    assert isinstance(run, LinkRun)
    assert (run.downs, run.ups) == (6, 5)
    assert run.first_at == first.at
    assert run.text(zh=False) == (
        "the link went down 6 times and came back 5 times between "
        "2026-12-02 15:12:53 +08:00 and 2026-12-02 15:14:33 +08:00"
    )
    assert run.text(zh=True) == (
        "2026-12-02 15:12:53 +08:00 至 2026-12-02 15:14:33 +08:00：链路中断 6 次、恢复 5 次"
    )
    assert "+00:00" not in run.text(zh=False)
    # A person's reply breaks the run; a lone transition after it stays a line of its own.
    assert shown[2:] == [reply, up]


def test_short_runs_and_other_events_are_left_alone() -> None:
    entries = [
        entry(0, EntryKind.EVENT, "link_down"),
        entry(10, EntryKind.RECOVERY, "10"),
        entry(20, EntryKind.EVENT, "threshold_crossed"),
        entry(30, EntryKind.EVENT, "flapping_started"),
    ]
    assert compact(entries) == entries
