"""Credential values for the profiles an inventory names.

The inventory and the database only ever hold profile *names*. Values come from environment
variables (`IXOPS_SECRET_<PROFILE>_<FIELD>`, e.g. `IXOPS_SECRET_LAB_V2C_COMMUNITY`) or from a
secrets file (YAML) that must be readable by its owner alone (mode 0600); the environment wins.

Secret values are wrapped in `Secret`, whose `str`/`repr` never reveal them, so that a log line
or a traceback that formats a credential shows `'********'`.
"""

from __future__ import annotations

import os
import re
import stat
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # The inventory file's models (pydantic) and yaml are imported where they are used: every
    # command imports the scrubber below (through the audit log), few read credentials.
    from inventory.schema import SnmpProfile, SnmpVersion, SshProfile

ENV_PREFIX = "IXOPS_SECRET_"


class Secret:
    """A value that never prints itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    def __str__(self) -> str:
        return "********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:
        raise TypeError("secrets are not pickled")


MASK = "********"
_USERINFO_RE = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/:@\s]*):[^/@\s]+@")


def _mask_url(url: str) -> str:
    """What of a URL may be shown: its scheme, host and port (tokens sit in paths and queries)."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid URL>"
    rest = "/…" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{host}{port}{rest}"


def scrub(text: str, *secrets: Secret | str | None) -> str:
    """The one secret scrubber, for log lines, error messages, the audit and notifications:
    ``text`` with every given secret value replaced (longest first, so that a secret containing
    another is masked whole), a secret URL shown as scheme://host only, its query tokens masked
    wherever they appear alone, and any ``scheme://user:password@`` password masked."""
    values = sorted(
        {v for v in (x.reveal() if isinstance(x, Secret) else x for x in secrets) if v},
        key=len,
        reverse=True,
    )
    for value in values:
        text = text.replace(value, _mask_url(value) if "://" in value else MASK)
        if "://" in value:
            for _, token in urllib.parse.parse_qsl(urllib.parse.urlsplit(value).query):
                if len(token) >= 6:
                    text = text.replace(token, MASK)
    return _USERINFO_RE.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)


class CredentialError(Exception):
    """A profile's values are missing or the secrets file cannot be trusted."""


@dataclass(frozen=True)
class SnmpCredentials:
    profile: str
    version: SnmpVersion
    community: Secret | None = None
    user: str | None = None
    auth_protocol: str | None = None
    auth_key: Secret | None = None
    priv_protocol: str | None = None
    priv_key: Secret | None = None


@dataclass(frozen=True)
class SshCredentials:
    profile: str
    username: str
    password: Secret | None = None
    key_file: Path | None = None
    enable_secret: Secret | None = None


def env_name(profile: str, field: str) -> str:
    """`lab-v2c`, `community` → `IXOPS_SECRET_LAB_V2C_COMMUNITY`."""
    return ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", f"{profile}_{field}").upper()


def load_secrets_file(path: Path) -> dict[str, dict[str, dict[str, str]]]:
    """Read the secrets file, refusing one that others could read or change."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise CredentialError(f"{path}: cannot read the secrets file: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise CredentialError(f"{path}: the secrets file is not a regular file")
    loose = stat.S_IMODE(info.st_mode) & 0o077
    if loose:
        raise CredentialError(
            f"{path}: refusing to use the secrets file because its mode is "
            f"{stat.S_IMODE(info.st_mode):04o}; other users could read it. "
            f"Run: chmod 600 {path}"
        )
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise CredentialError(
            f"{path}: refusing to use the secrets file because it belongs to another user "
            f"(uid {info.st_uid})"
        )
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        # The YAML error text can quote the offending line, which may hold a secret: omit it.
        raise CredentialError(f"{path}{line}: the secrets file is not valid YAML") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise CredentialError(f"{path}: expected sections 'snmp' and 'ssh' of profile mappings")
    result: dict[str, dict[str, dict[str, str]]] = {}
    for kind in ("snmp", "ssh"):
        section = document.get(kind) or {}
        if not isinstance(section, dict):
            raise CredentialError(f"{path}: section {kind!r} must map profile names to fields")
        result[kind] = {}
        for profile, fields in section.items():
            if not isinstance(fields, dict):
                raise CredentialError(f"{path}: {kind} profile {profile!r} must be a mapping")
            result[kind][str(profile)] = {str(k): str(v) for k, v in fields.items()}
    # `notify` holds the notification channels' secrets (webhook URLs, SMTP password); its
    # own reader is in tickets.notify_config.
    unknown = set(document) - {"snmp", "ssh", "notify"}
    if unknown:
        raise CredentialError(f"{path}: unknown sections {', '.join(sorted(map(str, unknown)))}")
    return result


class CredentialStore:
    """Looks up profile values in the environment first, then in the secrets file."""

    def __init__(
        self, *, environ: Mapping[str, str] | None = None, secrets_file: Path | None = None
    ) -> None:
        self._environ = dict(os.environ if environ is None else environ)
        self._secrets_file = secrets_file
        self._file: dict[str, dict[str, dict[str, str]]] | None = None

    def _file_values(self) -> dict[str, dict[str, dict[str, str]]]:
        if self._file is None:
            self._file = load_secrets_file(self._secrets_file) if self._secrets_file else {}
        return self._file

    def _get(self, kind: str, profile: str, field: str) -> str | None:
        value = self._environ.get(env_name(profile, field))
        if value is not None:
            return value
        return self._file_values().get(kind, {}).get(profile, {}).get(field)

    def _require(self, kind: str, profile: str, field: str) -> str:
        value = self._get(kind, profile, field)
        if value is None or value == "":
            where = f" or in {self._secrets_file} under {kind}.{profile}.{field}"
            raise CredentialError(
                f"{kind.upper()} credential profile {profile!r} has no {field}: set "
                f"{env_name(profile, field)}{where if self._secrets_file else ''}"
            )
        return value

    def snmp(self, profile: SnmpProfile) -> SnmpCredentials:
        from inventory.schema import SnmpVersion

        if profile.version is SnmpVersion.V2C:
            return SnmpCredentials(
                profile=profile.name,
                version=profile.version,
                community=Secret(self._require("snmp", profile.name, "community")),
            )
        user = self._require("snmp", profile.name, "user")
        auth_key = priv_key = None
        if profile.auth_protocol:
            auth_key = Secret(self._require("snmp", profile.name, "auth_key"))
        if profile.priv_protocol:
            priv_key = Secret(self._require("snmp", profile.name, "priv_key"))
        for field, key in (("auth_key", auth_key), ("priv_key", priv_key)):
            if key is not None and len(key.reveal()) < 8:
                raise CredentialError(
                    f"SNMP credential profile {profile.name!r}: {field} must be at least "
                    "8 characters (RFC 3414)"
                )
        return SnmpCredentials(
            profile=profile.name,
            version=profile.version,
            user=user,
            auth_protocol=profile.auth_protocol,
            auth_key=auth_key,
            priv_protocol=profile.priv_protocol,
            priv_key=priv_key,
        )

    def ssh(self, profile: SshProfile) -> SshCredentials:
        from inventory.schema import SshMethod

        username = self._require("ssh", profile.name, "username")
        enable = self._get("ssh", profile.name, "enable_secret")
        if profile.method is SshMethod.KEY:
            key_file = Path(self._require("ssh", profile.name, "key_file")).expanduser()
            if not key_file.is_file():
                raise CredentialError(
                    f"SSH credential profile {profile.name!r}: key file {key_file} does not exist"
                )
            return SshCredentials(
                profile=profile.name,
                username=username,
                key_file=key_file,
                enable_secret=Secret(enable) if enable else None,
            )
        return SshCredentials(
            profile=profile.name,
            username=username,
            password=Secret(self._require("ssh", profile.name, "password")),
            enable_secret=Secret(enable) if enable else None,
        )
