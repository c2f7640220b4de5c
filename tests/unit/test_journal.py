"""The outage journal: fsync'd appends in order, replay progress, a bound with a warning."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest

from collectors.journal import (
    Journal,
    decode_change,
    decode_poll,
    decode_trap,
    encode_change,
    encode_poll,
    encode_trap,
)
from collectors.snmp import (
    IfStatus,
    InterfacePollResult,
    InterfaceStatus,
    ReachabilityChange,
    ReachabilityEvent,
    SnmpError,
    SnmpErrorKind,
)
from collectors.traps import TrapKind, TrapReceived, TrapVersion

AT = dt.datetime(2026, 11, 25, 3, 10, 7, 123456, tzinfo=dt.UTC)


def _status(if_index: int, oper: IfStatus) -> InterfaceStatus:
    return InterfaceStatus(
        if_index=if_index,
        port=f"Ethernet1/{if_index}",
        admin_status=IfStatus.UP,
        oper_status=oper,
        last_change_cs=100,
        in_octets=2**63 + 5,  # Counter64 values beyond a double's precision survive JSON
        out_octets=7,
        in_ucast_pkts=1,
        out_ucast_pkts=2,
        in_errors=0,
        out_errors=0,
        in_discards=3,
        out_discards=None,
        counter_discontinuity_cs=None,
        counter_bits=64,
        speed_bps=10_000_000_000,
        if_type=6,
        counters_at=AT + dt.timedelta(milliseconds=40 * if_index),
    )


def test_poll_results_traps_and_changes_survive_the_journal_unchanged() -> None:
    result = InterfacePollResult(
        device="chj-ex-core1",
        ok=True,
        polled_at=AT,
        sys_uptime_cs=123456,
        interfaces=(_status(1, IfStatus.UP), _status(2, IfStatus.LOWER_LAYER_DOWN)),
        discovery=None,
        error=None,
    )
    assert decode_poll(encode_poll(result)) == result
    failed = InterfacePollResult(
        device="ndr-acc1",
        ok=False,
        polled_at=None,
        sys_uptime_cs=None,
        interfaces=(),
        discovery=None,
        error=SnmpError("ndr-acc1", SnmpErrorKind.TIMEOUT, "no response"),
    )
    assert decode_poll(encode_poll(failed)) == failed
    states = decode_poll(encode_poll(result, states_only=True))
    assert states.interfaces[1].oper_status is IfStatus.LOWER_LAYER_DOWN
    assert states.interfaces[1].in_octets is None
    assert states.interfaces[1].speed_bps == 10_000_000_000
    trap = TrapReceived(
        received_at=AT,
        source_address="127.0.2.1",
        source_port=40000,
        version=TrapVersion.V2C,
        device="ndr-acc1",
        kind=TrapKind.LINK_DOWN,
        trap_oid=(1, 3, 6, 1, 6, 3, 1, 1, 5, 3),
        sys_uptime_cs=42,
        if_index=3,
        admin_status=IfStatus.UP,
        oper_status=IfStatus.DOWN,
        port="GigabitEthernet1/0/3",
        security_name=None,
        varbinds=(),
    )
    assert decode_trap(encode_trap(trap)) == trap
    change = ReachabilityEvent("ndr-acc1", ReachabilityChange.BECAME_UNREACHABLE, 3, "gone")
    assert decode_change(encode_change(change, AT)) == (change, AT)


def test_entries_replay_in_order_and_progress_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "journal" / "c1.jsonl"
    journal = Journal(path)
    for n in range(5):
        assert journal.append({"type": "trap", "n": n})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert journal.pending == 5
    seqs = []
    for seq, record in journal.entries():
        assert record["n"] == seq - 1
        seqs.append(seq)
        if seq == 2:
            journal.mark_replayed(seq)
            break
    assert seqs == [1, 2]
    # A crash after two were stored: the next process replays the other three only.
    again = Journal(path)
    assert again.pending == 3
    assert [r["n"] for _, r in again.entries()] == [2, 3, 4]
    for seq, _ in again.entries():
        again.mark_replayed(seq)
    again.clear()
    assert not path.exists()
    assert Journal(path).pending == 0


def test_a_torn_last_line_is_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "c1.jsonl"
    journal = Journal(path)
    journal.append({"type": "trap", "n": 0})
    with path.open("ab") as handle:
        handle.write(b'{"type": "trap", "n": 1, "se')  # a crash in the middle of a write
    assert [r["n"] for _, r in Journal(path).entries()] == [0]


def test_a_full_journal_warns_once_and_drops(tmp_path: Path) -> None:
    warnings: list[str] = []
    journal = Journal(tmp_path / "c1.jsonl", max_bytes=2048, warn=warnings.append)
    record = {"type": "trap", "pad": "x" * 200}
    appended = 0
    while journal.append(record):
        appended += 1
        assert journal.size_bytes <= 2048
    assert appended == 2048 // len(journal.path.read_bytes().splitlines()[0] + b"\n")
    assert journal.degraded
    assert not journal.append(record)
    assert journal.dropped == 2
    assert len(warnings) == 1
    assert "full" in warnings[0]
    assert str(journal.path) in warnings[0]
    assert "本地日志已满" in warnings[0]
    with pytest.raises(ValueError, match="at least 1024"):
        Journal(tmp_path / "x.jsonl", max_bytes=10)
