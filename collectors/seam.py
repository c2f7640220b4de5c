"""The collector seam: what every collector path (SNMP, SSH) offers the rest of ixops.

Nornir-style (``RunnerPlugin.run(task, hosts)``), NAPALM-style typed results: a collector has a
`name` and one call, `collect(targets)`, that runs one round over its targets and returns one
typed, frozen result per target, in the targets' order, each saying which device it is about
and whether the round worked for it. A failure stays in its device's result; the call never
raises for one dead device. `COLLECTORS` is the registry, an explicit literal; mypy checks
that every class in it has the shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Protocol, TypeVar

from collectors.snmp import SnmpPoller
from collectors.ssh import SshCollector

TargetT = TypeVar("TargetT", contravariant=True)
ResultT = TypeVar("ResultT", covariant=True)


class DeviceResult(Protocol):
    """What every per-device result says, whatever else it carries."""

    @property
    def device(self) -> str: ...

    @property
    def ok(self) -> bool: ...


class DeviceCollector(Protocol[TargetT, ResultT]):
    name: str

    async def collect(self, targets: Iterable[TargetT]) -> Sequence[ResultT]: ...


COLLECTORS: Final[Mapping[str, type[DeviceCollector[Any, DeviceResult]]]] = {
    "snmp": SnmpPoller,
    "ssh": SshCollector,
}


def collector_class(name: str) -> type[DeviceCollector[Any, DeviceResult]]:
    try:
        return COLLECTORS[name]
    except KeyError:
        known = ", ".join(sorted(COLLECTORS))
        raise ValueError(f"no collector named {name!r} (known: {known})") from None
