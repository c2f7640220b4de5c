"""Shared fixtures: real stores (SQLite file and a real PostgreSQL server), frozen clocks.

The PostgreSQL server is started by the tests themselves from the machine's PostgreSQL
binaries (a throwaway cluster in a temporary directory, on a free port of 127.0.0.1), unless
IXOPS_TEST_DATABASE_URL names one already running. There is no silent skip: without
PostgreSQL the PostgreSQL-parametrised tests fail and say why.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from ixops.db import make_engine, upgrade

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
EXAMPLE = REPO / "inventory" / "examples" / "shanghai-ix"
FROZEN_NOW = dt.datetime(2026, 11, 25, 3, 10, tzinfo=dt.UTC)


def _pg_bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.insert(0, out.stdout.strip())
    for candidate in candidates:
        if candidate and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise RuntimeError(
        "PostgreSQL server binaries not found (install the 'postgresql' package, "
        "or set IXOPS_TEST_DATABASE_URL to a server the tests may create databases on)"
    )


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


FreePort = Callable[..., int]


@pytest.fixture(scope="session")
def free_port() -> FreePort:
    """A port of 127.0.0.1 nothing listens on: `free_port()` for TCP,
    `free_port(socket.SOCK_DGRAM)` for UDP."""
    return _free_port


def _free_udp_port_on_all(addresses: list[str]) -> int:
    for _ in range(50):
        port = _free_port(socket.SOCK_DGRAM)
        try:
            for address in addresses:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.bind((address, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no UDP port free on every lab address")


@pytest.fixture(scope="session")
def free_udp_port_on_all() -> Callable[[list[str]], int]:
    """One UDP port free on every given address (the lab's devices share one SNMP port, each on
    its own 127.x address)."""
    return _free_udp_port_on_all


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A PostgreSQL server for the test session, as a URL to its `postgres` database."""
    given = os.environ.get("IXOPS_TEST_DATABASE_URL")
    if given:
        yield given
        return
    bindir = _pg_bindir()
    workdir = Path(tempfile.mkdtemp(prefix="ixops-pg-"))
    datadir = workdir / "data"
    port = _free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root; its packaged system user runs it instead.
        shutil.chown(workdir, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "-A", "trust",
         "-E", "UTF8", "--no-sync"],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*as_user, str(bindir / "pg_ctl"), "-D", str(datadir), "-o", options, "-w",
         "-l", str(workdir / "log"), "start"],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"],
            check=False, capture_output=True, env=env,
        )  # fmt: skip
        shutil.rmtree(workdir, ignore_errors=True)


def _psycopg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    import psycopg

    name = f"ixops_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_psycopg_dsn(postgres_admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with psycopg.connect(_psycopg_dsn(postgres_admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store-touching test runs on both backends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ixops.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def now() -> dt.datetime:
    return FROZEN_NOW


# -- real peers that must be present (never skipped: a missing peer fails and says so) ------
# A missing tool fails the tests that need it, at their set-up or their first call of it, and
# names the tool: never the whole session at import (a module-level check would abort it).

NET_SNMP = "apt-get install snmp"
SBIN = "/usr/sbin:/usr/bin"


def require_tools(*tools: str, install: str, path: str | None = None) -> None:
    """Fail the running test unless every tool is on PATH (or `path`), naming the missing."""
    missing = [tool for tool in tools if shutil.which(tool, path=path) is None]
    if missing:
        where = path or "PATH"
        pytest.fail(f"{', '.join(missing)} not found on {where} ({install})", pytrace=False)


@pytest.fixture
def require_snmpd() -> None:
    require_tools("snmpd", path=SBIN, install="apt-get install snmpd")
    require_tools("snmpget", install=NET_SNMP)


@pytest.fixture
def require_snmptrap() -> None:
    require_tools("snmptrap", install=NET_SNMP)


@pytest.fixture
def require_snmp_tools() -> None:
    """net-snmp's command-line client tools, which the lab agent's tests talk to it with."""
    require_tools("snmpget", "snmpbulkwalk", "snmpset", install=NET_SNMP)


@pytest.fixture
def require_netns() -> None:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.fail("network-namespace tests need root and iproute2")
