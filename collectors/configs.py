"""Configuration backup: running configs in a git repository, secrets masked, changes as events.

Like Oxidized: one file per device in `$IXOPS_HOME/configs/`, one commit per change, dated when
the change was detected, so `git log` of a file is the device's configuration history and any
git tool reads it. No database table is needed; the `config_changed` link event carries the
commit and a short diff summary.

Secrets are masked *before* anything is written (`mask_secrets`): enable and user passwords and
secrets, SNMP communities and v3 keys, TACACS+/RADIUS keys, key-chain key strings, HSRP/VRRP
text and MD5 keys, IS-IS area/domain/interface passwords, BGP/OSPF/OSPFv3/RIP/NTP keys: at
least everything napalm's sanitize filters (`napalm.base.constants.CISCO_SANITIZE_FILTERS`)
remove, which a test checks line by line. A masked value reads `<removed>`; the encryption type in
front of it stays, so that a change of type still shows in the diff. Masking is line-based and
idempotent. Volatile lines that change without a configuration change (IOS "Last configuration
change at …", "NVRAM config last updated", the startup-config's "Using N out of M bytes", EOS
"Startup-config last modified …") are dropped before comparing, so an unchanged device never
makes a commit.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from collectors.models import EventKind, LinkEvent
from collectors.store import InventoryIndex, store_event
from inventory.timeutil import require_aware

MASK = "<removed>"
SOURCE = "ssh"
CONFIG_CHANGED = EventKind.CONFIG_CHANGED
DIFF_SUMMARY_LINES = 20

# An optional encryption type in front of a value: IOS 0/5/7/8/9, EOS 0/5/7/8a/sha512.
_TYPE = r"(?: (?:[0-9]|8a|sha512)(?= ))?+"
_VALUE = r"(?!" + re.escape(MASK) + r")\S+"

# (why, pattern): group 1 is kept, the value after it is masked. Patterns are tried on every
# line; several may match one line (an SNMPv3 user's auth and priv keys).
MASKING_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (why, re.compile(pattern + _VALUE))
    for why, pattern in (
        ("enable secret or password", rf"^(\s*enable (?:secret|password)(?: level \d+)?{_TYPE}) "),
        (
            "local user password or secret",
            rf"^(\s*username \S+(?: .*?)? (?:secret|password){_TYPE}) ",
        ),
        ("EOS root secret", rf"^(\s*aaa root secret{_TYPE}) "),
        ("SNMP community", r"^(\s*snmp-server community) "),
        (
            "SNMP v1/v2c trap community",
            r"^(\s*snmp-server host \S+(?: vrf \S+)?(?: (?:traps|informs))?"
            r"(?: version (?:1|2c))?) (?!version\b|vrf\b|traps\b|informs\b)",
        ),
        ("SNMPv3 auth key", r"^(\s*snmp-server user \S+.*? auth (?:md5|sha\S*)) "),
        (
            "SNMPv3 priv key",
            r"^(\s*snmp-server user \S+.*? priv(?: (?:des|3des|aes)\S*(?: \d{3})?)?) "
            r"(?!(?:des|3des|aes)\S*(?:\s|$))",
        ),
        (
            "TACACS+/RADIUS key",
            rf"^(\s*(?:tacacs-server|radius-server|server-private)\b.*? key{_TYPE}) ",
        ),
        # Inside `tacacs server X` / `radius server X` blocks; a key chain's `key 1` is an id.
        ("server block key", rf"^(\s+key{_TYPE}) (?=\S+\s*$)(?!\d+\s*$)"),
        # A key chain's `key-string`, and HSRP/VRRP/GLBP's `authentication md5 key-string`.
        ("key string", rf"(\bkey-string{_TYPE}) "),
        ("HSRP text authentication", r"(\bstandby (?:\d+ )?authentication(?: text)?) (?!md5\b)"),
        ("VRRP text authentication", r"(\bvrrp \d+ authentication(?: text)?) (?!md5\b|text\b)"),
        ("VRRPv3/HSRP block text authentication", r"^(\s+authentication text) "),
        ("IS-IS area/domain password", rf"^(\s*(?:area|domain)-password{_TYPE}) "),
        ("IS-IS interface password", rf"(\bisis password{_TYPE}) "),
        ("IS-IS authentication key", rf"(\b(?:isis )?authentication key{_TYPE}) "),
        (
            "OSPFv3 IPsec key",
            r"(\b(?:ipv6 ospf|ospfv3) (?:authentication|encryption) ipsec spi \d+ "
            r"(?:md5|sha1|esp \S+ (?:md5|sha1))(?: \d)?) ",
        ),
        ("RIP/EIGRP/other type-7 key", r"(\bkey 7) "),
        ("indented secret", rf"^(\s+secret{_TYPE}) "),
        # Huawei VRP and H3C Comware: `cipher`/`irreversible-cipher` always introduce a
        # secret (passwords, shared keys, communities, IS-IS/BGP keys); `simple` a plain one.
        ("VRP/Comware cipher", r"(\b(?:irreversible-cipher|cipher)) "),
        ("VRP/Comware plain password", r"(\b(?:password|key \S+) (?:simple|hash)) "),
        (
            "VRP/Comware SNMP community",
            r"^(\s*snmp-agent community (?:read|write)) (?!cipher\b|simple\b)",
        ),
        ("IKE pre-shared key", rf"^(\s*crypto isakmp key{_TYPE}) "),
        ("pre-shared key", rf"(\bpre-shared-key(?: (?:local|remote))?{_TYPE}) "),
        ("BGP neighbour password", rf"(\bneighbor \S+ password{_TYPE}) "),
        ("OSPF authentication key", rf"(\bip ospf authentication-key{_TYPE}) "),
        ("OSPF MD5 key", rf"(\bmessage-digest-key \d+ md5{_TYPE}) "),
        ("NTP authentication key", rf"^(\s*ntp authentication-key \d+ md5{_TYPE}) "),
        ("line password", rf"^(\s+password{_TYPE}) "),
        ("PPP/Wi-Fi secret", rf"(\b(?:ppp (?:chap|pap) password|wpa-psk ascii){_TYPE}) "),
    )
)

_VOLATILE = re.compile(
    r"^(?:Building configuration\.\.\."
    r"|Current configuration : \d+ bytes"
    r"|Using \d+ out of \d+ bytes.*"
    r"|! Last configuration change at .*"
    r"|! NVRAM config last updated at .*"
    r"|! No configuration change since last restart"
    r"|! Startup-config last modified at .*"
    r"|! Time: .*"
    r"|ntp clock-period \d+)\s*$"
)


def mask_secrets(config: str) -> str:
    """The configuration with every secret value replaced by `<removed>` (see the module doc)."""
    lines = []
    for line in config.splitlines():
        for _, rule in MASKING_RULES:
            line = rule.sub(lambda m: f"{m.group(1)} {MASK}", line, count=1)
        lines.append(line)
    return "\n".join(lines) + ("\n" if config.endswith("\n") else "")


def normalise(config: str) -> str:
    """Drop volatile lines and trailing blanks so that only configuration changes differ."""
    kept = [line.rstrip() for line in config.splitlines() if not _VOLATILE.match(line.strip())]
    while kept and not kept[0]:
        kept.pop(0)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept) + "\n" if kept else ""


def prepare(config: str) -> str:
    """What is stored: masked, then normalised."""
    return normalise(mask_secrets(config))


@dataclass(frozen=True)
class DiffSummary:
    added: int
    removed: int
    excerpt: tuple[str, ...]

    @classmethod
    def of(cls, old: str, new: str, *, context: int = 0) -> DiffSummary:
        lines = list(
            difflib.unified_diff(
                old.splitlines(), new.splitlines(), "before", "after", lineterm="", n=context
            )
        )
        body = [line for line in lines[2:] if not line.startswith("@@")]
        return cls(
            added=sum(1 for line in body if line.startswith("+")),
            removed=sum(1 for line in body if line.startswith("-")),
            excerpt=tuple(body[:DIFF_SUMMARY_LINES]),
        )


@dataclass(frozen=True)
class ConfigVersion:
    commit: str
    committed_at: dt.datetime
    message: str


@dataclass(frozen=True)
class ConfigChange:
    device: str
    commit: str
    previous_commit: str | None
    detected_at: dt.datetime
    summary: DiffSummary


class ConfigRepositoryError(RuntimeError):
    """git failed; the message says which command and why."""


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ConfigRepository:
    """A git repository of masked device configurations, one file per device."""

    def __init__(self, root: Path, *, git: str = "git") -> None:
        self.root = root
        self._git = git

    def path_for(self, device: str) -> Path:
        if not _SAFE_NAME.match(device):
            raise ValueError(f"device name {device!r} cannot be a file name")
        return self.root / f"{device}.cfg"

    def _run(self, *args: str, when: dt.datetime | None = None) -> str:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
            "GIT_AUTHOR_NAME": "ixops",
            "GIT_AUTHOR_EMAIL": "ixops@localhost",
            "GIT_COMMITTER_NAME": "ixops",
            "GIT_COMMITTER_EMAIL": "ixops@localhost",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
        }
        if when is not None:
            stamp = when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = stamp
        command = [self._git, "-C", str(self.root), "-c", "commit.gpgsign=false", *args]
        result = subprocess.run(  # noqa: S603 - fixed git arguments, no shell
            command, capture_output=True, text=True, env=env, check=False
        )
        if result.returncode != 0:
            reason = (result.stderr or result.stdout).strip().splitlines()
            raise ConfigRepositoryError(
                f"git {args[0]} in {self.root} failed: {reason[0] if reason else result.returncode}"
            )
        return result.stdout

    def ensure(self) -> None:
        # Configurations hold the network's secrets' hashes and the topology: owner-only.
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not (self.root / ".git").exists():
            self._run("init", "--quiet")
            # Configurations are what they are: no line-ending or whitespace rewriting.
            (self.root / ".gitattributes").write_text("*.cfg -text\n", encoding="utf-8")

    def show(self, device: str, revision: str | None = None) -> str | None:
        """A stored configuration: the latest, or as of a commit; None when never stored."""
        path = self.path_for(device)
        if revision is None:
            return path.read_text(encoding="utf-8") if path.exists() else None
        try:
            return self._run("show", f"{revision}:{path.name}")
        except ConfigRepositoryError:
            return None

    def history(self, device: str) -> list[ConfigVersion]:
        """Versions of a device's configuration, newest first."""
        if not (self.root / ".git").exists():
            return []
        path = self.path_for(device)
        try:
            out = self._run("log", "--format=%H%x09%cI%x09%s", "--", path.name)
        except ConfigRepositoryError:
            return []  # a repository without any commit yet
        versions = []
        for line in out.splitlines():
            commit, when, message = line.split("\t", 2)
            versions.append(ConfigVersion(commit, dt.datetime.fromisoformat(when), message))
        return versions

    def diff(self, device: str, old: str | None = None, new: str | None = None) -> str:
        """Unified diff between two versions (default: the one before the latest, the latest)."""
        versions = self.history(device)
        if new is None and old is None and len(versions) < 2:
            return ""
        new_rev = new or (versions[0].commit if versions else None)
        old_rev = old or (versions[1].commit if len(versions) > 1 else None)
        if new_rev is None or old_rev is None:
            return ""
        return self._run("diff", "--no-color", old_rev, new_rev, "--", self.path_for(device).name)

    def store(
        self, device: str, config: str, *, detected_at: dt.datetime
    ) -> tuple[ConfigChange | None, bool]:
        """Store a *prepared* (masked, normalised) config; commit only when it changed.

        Returns (the change, whether this was the first version): the first version is a
        baseline, not a change, and returns (None, True).
        """
        detected_at = require_aware(detected_at)
        self.ensure()
        path = self.path_for(device)
        before = path.read_text(encoding="utf-8") if path.exists() else None
        if before == config:
            return None, False
        previous = self.history(device)
        path.write_text(config, encoding="utf-8")
        first = before is None
        stamp = detected_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        message = f"{device}: {'first backup' if first else 'changed'} (detected {stamp})"
        self._run("add", "--", path.name, ".gitattributes", when=detected_at)
        self._run("commit", "--quiet", "-m", message, "--", path.name, ".gitattributes",
                  when=detected_at)  # fmt: skip
        commit = self._run("rev-parse", "HEAD").strip()
        if first:
            return None, True
        change = ConfigChange(
            device=device,
            commit=commit,
            previous_commit=previous[0].commit if previous else None,
            detected_at=detected_at,
            summary=DiffSummary.of(before or "", config),
        )
        return change, False


def record_config(
    *,
    session: Session,
    index: InventoryIndex,
    repository: ConfigRepository,
    device: str,
    running_config: str,
    detected_at: dt.datetime,
    now: dt.datetime,
) -> LinkEvent | None:
    """Back up one device's running config; a change becomes a `config_changed` event."""
    now = require_aware(now)
    change, _ = repository.store(device, prepare(running_config), detected_at=detected_at)
    ref = index.devices.get(device)
    if change is None or ref is None:
        return None
    row = store_event(
        session,
        kind=CONFIG_CHANGED,
        subject=f"device:{device}:config",
        detected_at=change.detected_at,
        now=now,
        source=SOURCE,
        device_id=ref.id,
        details={
            "commit": change.commit,
            "previous_commit": change.previous_commit,
            "lines_added": change.summary.added,
            "lines_removed": change.summary.removed,
            "diff": "\n".join(change.summary.excerpt),
        },
    )
    session.flush()
    return row


def render_history(versions: Sequence[ConfigVersion]) -> list[str]:
    return [f"{v.commit[:10]}  {v.committed_at.isoformat()}  {v.message}" for v in versions]
