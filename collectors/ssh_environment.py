"""Fans and power supplies from the text of `show environment all` (IOS 15, IOS-XE 16/17).

napalm's ios `get_environment` answers fans and power supplies with an "invalid" placeholder,
so the raw command is parsed here. The layouts, all taken from recordings of real devices
(tests/data/cli/, with provenance):

- IOS 15 / IOS-XE 3850: `Switch 1 FAN 1 is OK` lines, `FAN PS-1 is OK` for the fan of the
  supply in slot 1 of the switch named just before (`NOT PRESENT`: the slot is empty, which is
  absent, not failed);
- IOS-XE 16 Catalyst 9200/9300: a `Switch FAN Speed State` table; 17.x adds an `Airflow
  direction` column, tab separators and the state `NOT PRESENT or FAULTY`, and prints each
  supply's fan as a `PS1 FAN` row of the `Sensor List`;
- the supply table `SW PID Serial# Status Sys Pwr PoE Pwr Watts`, read by ntc-templates'
  `cisco_ios_show_environment_power_all` template (`1B  Not Present` is an empty slot);
- Catalyst 9400: a `Supply Model No Type Capacity Status Fan States` table
  (`active`/`standby`/`faulty`) and `Fantray : good`;
- Arista EOS `show environment power` and `show environment cooling`, through ntc-templates'
  `arista_eos_*` templates (`Power Loss` is failed, a `Not Inserted` slot absent). napalm's
  eos getter folds both into "status false", so an empty supply slot would read as a failure.

A chassis fan that says `NOT PRESENT or FAULTY` counts as failed: the device cannot tell, and a
Catalyst without one of its fans is a fault either way. An empty supply slot is absent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

log = logging.getLogger(__name__)


class ComponentState(StrEnum):
    OK = "ok"
    FAILED = "failed"
    ABSENT = "absent"


@dataclass(frozen=True)
class ComponentStatus:
    """A fan or a power supply as the device reports it.

    `group` is the unit whose components back each other up (a stack member, a supply's own
    fans); redundancy is counted within it. `detail` is the device's own word for the state.
    """

    name: str
    ok: bool
    present: bool = True
    group: str = ""
    detail: str = ""

    @property
    def state(self) -> ComponentState:
        if not self.present:
            return ComponentState.ABSENT
        return ComponentState.OK if self.ok else ComponentState.FAILED

    @property
    def failed(self) -> bool:
        return self.present and not self.ok


def component(name: str, detail: str, *, group: str = "") -> ComponentStatus:
    """A component from the device's word for its state."""
    word = " ".join(detail.split()).upper()
    if word in ("NOT PRESENT", "NOT INSTALLED", "NOT INSERTED", "EMPTY", "ABSENT"):
        return ComponentStatus(name, ok=False, present=False, group=group, detail=detail.strip())
    ok = word in ("OK", "GOOD", "GREEN", "NORMAL", "ACTIVE", "STANDBY")
    return ComponentStatus(name, ok=ok, present=True, group=group, detail=detail.strip())


@dataclass(frozen=True)
class ParsedEnvironment:
    fans: tuple[ComponentStatus, ...]
    power_supplies: tuple[ComponentStatus, ...]


_SWITCH_FAN = re.compile(
    r"^\s*Switch\s+(?P<switch>\d+)\s+FAN\s+(?P<fan>\S+)\s+is\s+(?P<state>.+?)\s*$"
)
_LONE_FAN = re.compile(r"^\s*FAN\s+(?:(?P<fan>\d+)\s+)?is\s+(?P<state>.+?)\s*$")
_PS_FAN = re.compile(r"^\s*FAN\s+PS-(?P<ps>\d+)\s+is\s+(?P<state>.+?)\s*$")
_FAN_TABLE = re.compile(r"^\s*Switch\s+FAN\s+Speed\s+State", re.IGNORECASE)
_FAN_ROW = re.compile(r"^\s*(?P<switch>\d+)\s+(?P<fan>\d+)\s+(?P<rpm>\d+)\s+(?P<rest>\S.*?)\s*$")
_SENSOR_PS_FAN = re.compile(
    r"^\s*PS(?P<ps>\d+)\s+FAN\s+(?P<loc>\S+)\s+(?P<state>[A-Za-z][A-Za-z ]*?)\s+-?\s*\d+\s+rpm\b",
    re.IGNORECASE,
)
_PSU_TABLE = re.compile(r"^\s*SW\s+PID\s+Serial#\s+Status\s+Sys\s+Pwr", re.IGNORECASE)
_C9400_PSU_TABLE = re.compile(r"^\s*Supply\s+Model\s+No\s+Type\s+Capacity\s+Status", re.IGNORECASE)
_C9400_PSU_ROW = re.compile(
    r"^\s*(?P<ps>PS\d+)\s+(?P<model>\S+)\s+(?P<type>\S+)\s+(?P<capacity>n\.a\.|\d+\s*W)\s+"
    r"(?P<status>\S+)(?:\s+(?P<fans>.*?))?\s*$"
)
_FANTRAY = re.compile(r"^\s*Fantray\s*(?P<slot>\d*)\s*:\s*(?P<state>\S+)\s*$", re.IGNORECASE)
_PSU_ROW = re.compile(
    r"^\s*(?P<slot>\d+[A-Z]?)\s+(?P<pid>\S+)\s+(?P<serial>\S*)\s+(?P<status>.+?)\s{2,}"
    r"(?P<syspwr>Good|Bad|n/a)\b"
)


def _fan_state(rest: str) -> str:
    """The state column of a fan-table row, without the airflow column that 17.x appends."""
    return re.split(r"\t|\s{2,}", rest.strip())[0].strip()


def _psu_section(lines: list[str], start: int) -> list[str]:
    section = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        section.append(line)
    return section


def _psu_rows(section: list[str]) -> list[ComponentStatus]:
    """The supply table through ntc-templates' template; a row it rejects is read by regex."""
    from ntc_templates.parse import parse_output
    from textfsm import TextFSMError

    # The 17.x layout closes the table with a dashed line the template already skips.
    text = "\n".join(section) + "\n"
    try:
        rows = parse_output(platform="cisco_ios", command="show environment power all", data=text)
    except TextFSMError as exc:
        log.info("ntc-templates rejected a supply table (%s); reading it by regex", exc)
        rows = []
        for line in section[1:]:
            match = _PSU_ROW.match(line)
            if match is not None:
                rows.append(
                    {"ps_module": match["slot"], "pid": match["pid"], "status": match["status"]}
                )
            elif re.match(r"^\s*\d+[A-Z]\s+Not\s+Present\s*$", line, re.IGNORECASE):
                slot = line.split()[0]
                rows.append({"ps_module": slot, "pid": "Not Present", "status": ""})
    supplies: list[ComponentStatus] = []
    for row in rows:
        slot = str(row.get("ps_module", ""))
        if not slot:
            continue
        group = re.sub(r"\D.*$", "", slot)
        pid = str(row.get("pid", ""))
        status = str(row.get("status", "") or "")
        if pid.upper() == "NOT PRESENT":
            supplies.append(component(slot, "Not Present", group=group))
        elif pid.upper() == "BUILT-IN" and not status:
            # 2960-S/X: a built-in supply has only the Sys Pwr column.
            supplies.append(component(slot, str(row.get("sys_pwr", "")), group=group))
        else:
            supplies.append(component(slot, status, group=group))
    return supplies


def parse_ios_environment_all(text: str) -> ParsedEnvironment:
    """Fans and power supplies from IOS/IOS-XE `show environment all` (see the module doc)."""
    fans: list[ComponentStatus] = []
    supplies: list[ComponentStatus] = []
    lines = text.replace("\r", "").splitlines()
    switch = ""
    in_fan_table = False
    in_c9400_table = False
    for i, line in enumerate(lines):
        if in_fan_table:
            row = _FAN_ROW.match(line)
            if row is not None:
                sw = row["switch"]
                fans.append(component(f"{sw}/{row['fan']}", _fan_state(row["rest"]), group=sw))
                switch = sw
                continue
            if line.strip().startswith("---"):
                continue
            in_fan_table = False
        if in_c9400_table:
            row = _C9400_PSU_ROW.match(line)
            if row is not None:
                ps = row["ps"]
                supplies.append(component(ps, row["status"]))
                for n, state in enumerate((row["fans"] or "").split(), start=1):
                    fans.append(component(f"{ps}/{n}", state, group=ps))
                continue
            if line.strip().startswith("---"):
                continue
            in_c9400_table = False
        if _FAN_TABLE.match(line):
            in_fan_table = True
            continue
        if _C9400_PSU_TABLE.match(line):
            in_c9400_table = True
            continue
        if _PSU_TABLE.match(line):
            supplies += _psu_rows(_psu_section(lines, i))
            continue
        if "direction is" in line:
            continue
        match = _SWITCH_FAN.match(line)
        if match is not None:
            switch = match["switch"]
            fans.append(component(f"{switch}/{match['fan']}", match["state"], group=switch))
            continue
        match = _PS_FAN.match(line)
        if match is not None:
            name = f"{switch}/PS-{match['ps']}" if switch else f"PS-{match['ps']}"
            # Supplies' fans back each other up, not the chassis fans.
            fans.append(component(name, match["state"], group=f"{switch}/PS"))
            continue
        match = _SENSOR_PS_FAN.match(line)
        if match is not None:
            name = f"{match['loc']}/PS{match['ps']}"
            fans.append(component(name, match["state"], group=f"{match['loc']}/PS"))
            continue
        match = _FANTRAY.match(line)
        if match is not None:
            name = f"Fantray{match['slot']}" if match["slot"] else "Fantray"
            fans.append(component(name, match["state"]))
            continue
        match = _LONE_FAN.match(line)
        if match is not None:
            fans.append(component(match["fan"] or "FAN", match["state"]))
    return ParsedEnvironment(_unique(fans), _unique(supplies))


def parse_eos_environment(power_text: str, cooling_text: str) -> ParsedEnvironment:
    """Supplies and fans from EOS `show environment power` / `show environment cooling`."""
    from ntc_templates.parse import parse_output

    supplies: list[ComponentStatus] = []
    if "no power supplies" not in power_text:
        for row in parse_output(
            platform="arista_eos", command="show environment power", data=power_text
        ):
            supplies.append(
                component(str(row["power_supply_location"]), str(row["power_supply_status"]))
            )
    fans: list[ComponentStatus] = []
    for row in parse_output(
        platform="arista_eos", command="show environment cooling", data=cooling_text
    ):
        name = str(row["fan"])
        # "1/3" is fan 3 of tray 1; "PowerSupply2/1" the fan of supply 2.
        group = "PowerSupply" if name.startswith("PowerSupply") else name.split("/")[0]
        fans.append(component(name, str(row["status"]), group=group))
    return ParsedEnvironment(_unique(fans), _unique(supplies))


def parse_raw_environment(platform: str, outputs: dict[str, str]) -> ParsedEnvironment:
    """The raw environment commands' answers of one platform, parsed."""
    if platform == "arista_eos":
        return parse_eos_environment(
            outputs.get("show environment power", ""), outputs.get("show environment cooling", "")
        )
    return parse_ios_environment_all(outputs.get("show environment all", ""))


def _unique(components: Iterable[ComponentStatus]) -> tuple[ComponentStatus, ...]:
    """One entry per name (a stack prints some lines twice); the first wins."""
    seen: dict[str, ComponentStatus] = {}
    for c in components:
        seen.setdefault(c.name, c)
    return tuple(seen.values())


# -- what a failure means ------------------------------------------------------------------------


def failure_severity(failed: ComponentStatus, peers: Iterable[ComponentStatus]) -> str:
    """`critical` when fewer than two components of its group still work, else `major`.

    A dual-supply switch that lost one supply runs on the other alone: no redundancy is left.
    """
    working = sum(1 for p in peers if p.group == failed.group and p.present and p.ok)
    return "critical" if working < 2 else "major"


_VIRTUAL = re.compile(
    r"\b(?:veos|ceos|csr\s*1000v|c8000v|cat8000v|iosv|iosxrv|nx-?osv|vmx|virtual)\b",
    re.IGNORECASE,
)


def environment_warning(
    fans: tuple[ComponentStatus, ...],
    power_supplies: tuple[ComponentStatus, ...],
    *,
    model: str,
    unparsed_lines: int = 0,
) -> str | None:
    """Why a parsed environment cannot be right, or None.

    Physical switches and routers have fans or supplies; when none were read, the parser did not
    understand the device (a new layout) and saying nothing would read as "all fine". Virtual
    platforms (vEOS, cEOS, CSR1000v …) have neither and are not warned about.
    """
    if fans or power_supplies or _VIRTUAL.search(model or ""):
        return None
    if unparsed_lines:
        return (
            "no fans and no power supplies parsed from 'show environment all' "
            f"({unparsed_lines} lines not understood)"
        )
    return "the device reported no fans and no power supplies"
