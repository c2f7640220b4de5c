"""`ixops doctor`: set-up problems, each with its fix.

A list of check functions, each taking the settings and returning the problems it found; add a
check by adding a function to CHECKS. A check never changes anything: it says what is wrong and
the command that fixes it.
"""

from __future__ import annotations

import os
import pwd
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ixops.settings import Settings


@dataclass(frozen=True)
class Problem:
    what: str
    fix: str


Check = Callable[[Settings], list[Problem]]


def _too_open(path: Path, allowed: int, what: str) -> list[Problem]:
    """``path`` readable or writable beyond its owner (group/other bits outside ``allowed``)."""
    try:
        mode = stat.S_IMODE(path.lstat().st_mode)
    except FileNotFoundError:
        return []
    if mode & 0o077 & ~allowed:
        wanted = 0o700 if path.is_dir() else 0o600
        return [
            Problem(
                f"{what} {path} has mode {mode:04o}: other local users can read it",
                f"chmod {wanted:o} {path}",
            )
        ]
    return []


def _sqlite_path(settings: Settings) -> Path | None:
    url = settings.database_url
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == "sqlite:///:memory:":
        return None
    return Path(url[len(prefix) :]).expanduser()


def check_home(settings: Settings) -> list[Problem]:
    if not settings.home.exists():
        return [
            Problem(
                f"IXOPS_HOME {settings.home} does not exist yet",
                f"mkdir -m 700 -p {settings.home}   (or run any ixops command that uses the store)",
            )
        ]
    return _too_open(settings.home, 0, "IXOPS_HOME")


def check_store_files(settings: Settings) -> list[Problem]:
    path = _sqlite_path(settings)
    if path is None:
        return []
    if not path.parent.is_dir():
        return [
            Problem(
                f"the SQLite store's directory {path.parent} does not exist",
                f"mkdir -m 700 -p {path.parent}, or correct IXOPS_DATABASE_URL",
            )
        ]
    problems: list[Problem] = []
    for suffix in ("", "-wal", "-shm"):
        problems += _too_open(Path(f"{path}{suffix}"), 0, "the store file")
    if path.parent != settings.home:
        problems += _too_open(path.parent, 0o055, "the store's directory")
    return problems


def check_secrets(settings: Settings) -> list[Problem]:
    problems = _too_open(settings.secrets_file, 0, "the secrets file")
    path = settings.secrets_file
    if path.exists() and path.stat().st_uid != os.geteuid():
        problems.append(
            Problem(
                f"the secrets file {path} belongs to uid {path.stat().st_uid}, not you",
                f"chown {pwd.getpwuid(os.geteuid()).pw_name} {path}",
            )
        )
    return problems


def check_config_history(settings: Settings) -> list[Problem]:
    return _too_open(settings.home / "configs", 0, "the config history")


def check_lab_socket(settings: Settings) -> list[Problem]:
    return _too_open(settings.home / "lab.sock", 0, "the lab's control socket")


def check_accounts(settings: Settings) -> list[Problem]:
    """The store has accounts, and the OS user running doctor may act as one of them."""
    path = _sqlite_path(settings)
    if path is not None and not path.exists():
        return []  # no store yet: nothing to say about its accounts
    from sqlmodel import Session, select

    from inventory.accounts import OsUserMap, count_users
    from ixops.db import make_engine

    try:
        engine = make_engine(settings.database_url)
        with Session(engine) as session:
            if count_users(session) == 0:
                return [
                    Problem(
                        "the store has no accounts",
                        "ixops user add NAME --role admin --password-stdin   (you are mapped "
                        "to it)",
                    )
                ]
            me = pwd.getpwuid(os.geteuid()).pw_name
            if session.exec(select(OsUserMap).where(OsUserMap.os_user == me)).first() is None:
                return [
                    Problem(
                        f"the OS user {me} is mapped to no account: --as asks for a password",
                        f"an admin runs: ixops user map {me} ACCOUNT --as ADMIN",
                    )
                ]
    except Exception as exc:  # noqa: BLE001 - doctor reports, never crashes
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [Problem(f"cannot read the store: {reason}", "check IXOPS_DATABASE_URL")]
    return []


CHECKS: Final[tuple[Check, ...]] = (
    check_home,
    check_store_files,
    check_secrets,
    check_config_history,
    check_lab_socket,
    check_accounts,
)


def diagnose(settings: Settings, checks: tuple[Check, ...] = CHECKS) -> list[Problem]:
    return [problem for check in checks for problem in check(settings)]
