"""Huawei VRP and H3C Comware CLIs: the read-only `display` commands ixops uses.

Layouts from recordings of real devices: VRP's `display version` from ntc-templates'
tests/huawei_vrp/display_version (a CX600 on VRP 8.100), Comware's from the sysDescr of the
snmpsim-data H3C E528 recording (Comware prints its `display version` header there). Both
prompt `<hostname>` in user view, page with `screen-length 0 temporary` (VRP) or
`screen-length disable` (Comware), and reject an unknown command with a caret line.
"""

from __future__ import annotations

from ixops.lab.cli_common import (
    CliContext,
    Command,
    PlatformCli,
    config_secrets,
    uptime_words,
)


def _vrp_version(context: CliContext) -> str:
    device = context.device
    uptime = uptime_words(context.now - device.booted_at)
    return "\n".join(
        [
            "Huawei Versatile Routing Platform Software",
            f"VRP (R) software, Version 8.180 ({device.model} {device.os_version})",
            "Copyright (C) 2012-2020 Huawei Technologies Co., Ltd.",
            f"HUAWEI {device.model} uptime is {uptime}",
            "Patch Version: V800R012SPH001",
            "",
            f"{device.model} version information:",
            "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -",
            "BKP  version information:",
            "  PCB        Version  : CR68BKP01C REV A",
            "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -",
            "",
        ]
    )


def _comware_version(context: CliContext) -> str:
    device = context.device
    seconds = int(context.now - device.booted_at)
    weeks, rest = divmod(seconds, 7 * 86400)
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    return "\n".join(
        [
            "H3C Comware Platform Software",
            f"Comware Software, Version 5.20, Release {device.os_version}",
            "Copyright (c) 2004-2013 Hangzhou H3C Tech. Co., Ltd. All rights reserved.",
            f"H3C {device.model} uptime is {weeks} week, {days} day, {hours} hour, "
            f"{rest // 60} minutes",
            "",
            f"H3C {device.model}",
            "128M   bytes DRAM",
            "16M    bytes Flash Memory",
            "Config Register points to FLASH",
            "",
        ]
    )


def _vrp_config(context: CliContext) -> str:
    device = context.device
    if device.config_text.strip():
        return device.config_text.rstrip("\n") + "\n"
    secret = config_secrets(device.name)
    lines = [
        "!Software Version V800R012C00SPC300",
        "#",
        f" sysname {device.name}",
        "#",
        " super password level 15 cipher %^%#" + secret["enable"] + "%^%#",
        "#",
        "aaa",
        " local-user admin password irreversible-cipher $1a$" + secret["admin"] + "$",
        " local-user admin privilege level 15",
        " local-user admin service-type ssh",
        "#",
        "hwtacacs-server template TAC1",
        " hwtacacs-server authentication 192.0.2.49",
        " hwtacacs-server shared-key cipher %^%#" + secret["tacacs"] + "%^%#",
        "#",
    ]
    for port in device.ports:
        lines.append(f"interface {port.name}")
        if port.description:
            lines.append(f" description {port.description}")
        if not port.admin_up:
            lines.append(" shutdown")
        lines.append("#")
    lines += [
        "isis 1",
        " is-level level-2",
        " area-authentication-mode md5 cipher %^%#" + secret["isis-area"] + "%^%#",
        " network-entity 49.0001.0000.0000.0001.00",
        "#",
        "bgp 64500",
        " peer 192.0.2.1 as-number 64501",
        " peer 192.0.2.1 password cipher %^%#" + secret["bgp"] + "%^%#",
        "#",
        " snmp-agent community read cipher %^%#" + secret["community"] + "%^%#",
        f" snmp-agent sys-info location {device.location}" if device.location else "#",
        "#",
        "return",
    ]
    return "\n".join(lines) + "\n"


def _comware_config(context: CliContext) -> str:
    device = context.device
    if device.config_text.strip():
        return device.config_text.rstrip("\n") + "\n"
    secret = config_secrets(device.name)
    lines = [
        "#",
        f" version 5.20, Release {device.os_version}",
        "#",
        f" sysname {device.name}",
        "#",
        " super password level 3 cipher " + secret["enable"],
        "#",
        "radius scheme system",
        " key authentication cipher " + secret["tacacs"],
        "#",
        "local-user admin",
        " password cipher " + secret["admin"],
        " authorization-attribute level 3",
        " service-type ssh",
        "local-user noc",
        " password simple " + secret["noc"],
        "#",
    ]
    for port in device.ports:
        lines.append(f"interface {port.name}")
        if port.description:
            lines.append(f" description {port.description}")
        if not port.admin_up:
            lines.append(" shutdown")
        lines.append("#")
    lines += [
        " snmp-agent community read " + secret["community"],
        f" snmp-agent sys-info location {device.location}" if device.location else "#",
        "#",
        "return",
    ]
    return "\n".join(lines) + "\n"


def _vrp_paging(context: CliContext) -> str:
    return "Info: The configuration takes effect on the current user terminal interface only.\n"


def _comware_paging(context: CliContext) -> str:
    return "% Screen-length configuration is disabled for current user.\n"


def _caret(column: int) -> str:
    return " " * column + "^\nError: Unrecognized command found at '^' position.\n"


def _comware_caret(column: int) -> str:
    return " " * column + "^\n % Unrecognized command found at '^' position.\n"


HUAWEI = PlatformCli(
    name="huawei",
    commands=(
        Command(("display", "version"), _vrp_version),
        Command(("display", "current-configuration"), _vrp_config),
        Command(("screen-length", "0", "temporary"), _vrp_paging),
    ),
    banner="\nInfo: The max number of VTY users is 10, and the number\n"
    "      of current VTY users on line is 1.\n",
    terminal_length_reply="",
    terminal_width_reply="",
    invalid_input=_caret,
    incomplete_command="Error: Incomplete command found at '^' position.\n",
    ambiguous_command=lambda typed: "Error: Ambiguous command found at '^' position.\n",
    privileged_required=_caret,
    json_pipe=False,
    angle_prompt=True,
)

HP_COMWARE = PlatformCli(
    name="hp_comware",
    commands=(
        Command(("display", "version"), _comware_version),
        Command(("display", "current-configuration"), _comware_config),
        Command(("screen-length", "disable"), _comware_paging),
    ),
    banner="\n******************************************************************************\n"
    "* Copyright (c) 2004-2013 Hangzhou H3C Tech. Co., Ltd. All rights reserved.  *\n"
    "******************************************************************************\n",
    terminal_length_reply="",
    terminal_width_reply="",
    invalid_input=_comware_caret,
    incomplete_command=" % Incomplete command found at '^' position.\n",
    ambiguous_command=lambda typed: " % Ambiguous command found at '^' position.\n",
    privileged_required=_comware_caret,
    json_pipe=False,
    angle_prompt=True,
)
