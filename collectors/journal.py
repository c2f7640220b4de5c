"""The collector's local journal: what it saw while the store was unreachable.

When the database is down or locked the collector goes on polling and receiving traps, and
appends each round's poll results (with the reachability changes it worked out) and each trap
to this file, one JSON object a line, fsync'd before it goes on. When the store answers again
the entries are replayed in order through the same store functions as live data, with their
original detection times: an event is detected when it was seen, not when it was written, so a
fault's SLA clock starts then. After each replayed entry is committed its sequence number is
written (and fsync'd) to the ``.done`` file beside the journal, so a crash during a replay
replays nothing twice; events carry unique keys besides.

The file is bounded (`max_bytes`). Past 80 % of it, rounds are journaled as port states only —
counters dropped, and only ports whose state differs from the last journaled round — so faults
keep being recorded at a fraction of the size; at the bound new entries are dropped and the
owner is warned, once per outage, in words that say what is being lost.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEGRADE_AT = 0.8

Record = dict[str, Any]


class Journal:
    """An fsync'd, size-bounded, append-only file of records not yet in the store."""

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        if max_bytes < 1024:
            raise ValueError(f"journal max_bytes must be at least 1024, got {max_bytes}")
        self.path = path
        self.done_path = path.with_name(path.name + ".done")
        self.max_bytes = max_bytes
        self.warn = warn or (lambda message: log.warning("%s", message))
        self.dropped = 0
        self._warned_full = False
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._seq, self._size = self._scan()
        self._done = self._read_done()

    # -- reading ---------------------------------------------------------------------------

    def _scan(self) -> tuple[int, int]:
        if not self.path.exists():
            return 0, 0
        last = 0
        for seq, _ in self._lines():
            last = seq
        return last, self.path.stat().st_size

    def _lines(self) -> Iterator[tuple[int, Record]]:
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    record = json.loads(raw)
                    seq = int(record["seq"])
                except (ValueError, KeyError, TypeError):
                    # Only a crash in the middle of a write leaves a torn line, and only the
                    # last one: what it held was never acknowledged as journaled.
                    log.warning("journal %s: line %d unreadable, skipped", self.path, number)
                    continue
                yield seq, record

    def _read_done(self) -> int:
        try:
            return int(self.done_path.read_text(encoding="utf-8").strip() or 0)
        except FileNotFoundError:
            return 0
        except ValueError:
            log.warning("journal %s: progress file unreadable; replaying all", self.done_path)
            return 0

    @property
    def last_seq(self) -> int:
        """The sequence number of the newest record appended."""
        return self._seq

    @property
    def pending(self) -> int:
        return max(0, self._seq - self._done)

    @property
    def size_bytes(self) -> int:
        return self._size

    @property
    def degraded(self) -> bool:
        """Past 80 % of the bound: journal port states only."""
        return self._size >= self.max_bytes * DEGRADE_AT

    def entries(self) -> Iterator[tuple[int, Record]]:
        """The records not yet replayed, in the order they were appended."""
        done = self._done
        for seq, record in self._lines():
            if seq > done:
                yield seq, record

    # -- writing ---------------------------------------------------------------------------

    def append(self, record: Record) -> bool:
        """Append and fsync one record; False (and a warning) when the journal is full."""
        line = json.dumps({**record, "seq": self._seq + 1}, separators=(",", ":")) + "\n"
        data = line.encode("utf-8")
        if self._size + len(data) > self.max_bytes:
            self.dropped += 1
            if not self._warned_full:
                self._warned_full = True
                self.warn(
                    f"the local journal {self.path} is full ({self._size} of {self.max_bytes} "
                    "bytes): from now on what the collector sees is lost until the store "
                    "answers again / 本地日志已满，数据库恢复前的新数据将丢失"
                )
            return False
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._seq += 1
        self._size += len(data)
        return True

    def mark_replayed(self, seq: int) -> None:
        """Record that every entry up to `seq` is in the store (fsync'd before returning)."""
        tmp = self.done_path.with_name(self.done_path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, str(seq).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.done_path)
        self._done = seq

    def clear(self) -> None:
        """Everything is replayed: start an empty journal."""
        if self.pending:
            raise RuntimeError(f"journal {self.path} still has {self.pending} entries")
        for path in (self.path, self.done_path):
            path.unlink(missing_ok=True)
        self._seq = self._done = self._size = 0
        self._warned_full = False


# -- the records ----------------------------------------------------------------------------


def _time(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value is not None else None


def _status(value: str | None) -> IfStatus | None:
    return IfStatus(value) if value is not None else None


_COUNTERS = (
    "last_change_cs",
    "in_octets",
    "out_octets",
    "in_ucast_pkts",
    "out_ucast_pkts",
    "in_errors",
    "out_errors",
    "in_discards",
    "out_discards",
    "counter_discontinuity_cs",
)


def encode_poll(result: InterfacePollResult, *, states_only: bool = False) -> Record:
    """A device's round as JSON; `states_only` drops the counters (a degraded journal)."""
    error = result.error
    return {
        "device": result.device,
        "ok": result.ok,
        "polled_at": _time(result.polled_at),
        "sys_uptime_cs": result.sys_uptime_cs,
        "error": None
        if error is None
        else [error.kind.value, error.detail, error.error_status, error.error_index],
        "interfaces": [
            [
                s.if_index,
                s.port,
                s.admin_status.value if s.admin_status else None,
                s.oper_status.value if s.oper_status else None,
                *(None if states_only else getattr(s, name) for name in _COUNTERS),
                s.counter_bits,
                s.speed_bps,
                s.if_type,
                None if states_only else _time(s.counters_at),
            ]
            for s in result.interfaces
        ],
    }


def decode_poll(record: Record) -> InterfacePollResult:
    error = record["error"]
    width = len(_COUNTERS)
    interfaces = tuple(
        InterfaceStatus(
            if_index=int(row[0]),
            port=row[1],
            admin_status=_status(row[2]),
            oper_status=_status(row[3]),
            **dict(zip(_COUNTERS, row[4 : 4 + width], strict=True)),
            counter_bits=int(row[4 + width]),
            speed_bps=row[5 + width],
            if_type=row[6 + width],
            counters_at=_parse_time(row[7 + width]),
        )
        for row in record["interfaces"]
    )
    return InterfacePollResult(
        device=record["device"],
        ok=bool(record["ok"]),
        polled_at=_parse_time(record["polled_at"]),
        sys_uptime_cs=record["sys_uptime_cs"],
        interfaces=interfaces,
        discovery=None,
        error=None
        if error is None
        else SnmpError(record["device"], SnmpErrorKind(error[0]), error[1], error[2], error[3]),
    )


def encode_change(change: ReachabilityEvent, detected_at: dt.datetime) -> Record:
    return {
        "device": change.device,
        "change": change.change.value,
        "missed_rounds": change.missed_rounds,
        "message": change.message,
        "detected_at": detected_at.isoformat(),
    }


def decode_change(record: Record) -> tuple[ReachabilityEvent, dt.datetime]:
    event = ReachabilityEvent(
        record["device"],
        ReachabilityChange(record["change"]),
        int(record["missed_rounds"]),
        record["message"],
    )
    return event, dt.datetime.fromisoformat(record["detected_at"])


def encode_trap(trap: TrapReceived) -> Record:
    """What the store needs of a trap (the varbinds are not kept)."""
    return {
        "received_at": trap.received_at.isoformat(),
        "source_address": trap.source_address,
        "source_port": trap.source_port,
        "version": trap.version.value,
        "device": trap.device,
        "kind": trap.kind.value,
        "trap_oid": list(trap.trap_oid),
        "sys_uptime_cs": trap.sys_uptime_cs,
        "if_index": trap.if_index,
        "admin_status": trap.admin_status.value if trap.admin_status else None,
        "oper_status": trap.oper_status.value if trap.oper_status else None,
        "port": trap.port,
        "security_name": trap.security_name,
    }


def decode_trap(record: Record) -> TrapReceived:
    return TrapReceived(
        received_at=dt.datetime.fromisoformat(record["received_at"]),
        source_address=record["source_address"],
        source_port=int(record["source_port"]),
        version=TrapVersion(record["version"]),
        device=record["device"],
        kind=TrapKind(record["kind"]),
        trap_oid=tuple(record["trap_oid"]),
        sys_uptime_cs=record["sys_uptime_cs"],
        if_index=record["if_index"],
        admin_status=_status(record["admin_status"]),
        oper_status=_status(record["oper_status"]),
        port=record["port"],
        security_name=record["security_name"],
        varbinds=(),
    )
