"""Credential profiles: values from the environment or a 0600 secrets file, never shown."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import pytest

from inventory.credentials import (
    CredentialError,
    CredentialStore,
    Secret,
    env_name,
    load_secrets_file,
)
from inventory.schema import SnmpProfile, SnmpVersion, SshProfile

V2 = SnmpProfile(name="lab-v2c", version=SnmpVersion.V2C)
V3 = SnmpProfile(name="core-v3", version=SnmpVersion.V3, auth_protocol="SHA", priv_protocol="AES")
SSH = SshProfile(name="lab-ssh")


def _secrets(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "secrets.yaml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_env_names() -> None:
    assert env_name("lab-v2c", "community") == "IXOPS_SECRET_LAB_V2C_COMMUNITY"


def test_values_from_environment_win_over_file(tmp_path: Path) -> None:
    path = _secrets(tmp_path, "snmp:\n  lab-v2c: {community: from-file}\n")
    store = CredentialStore(
        environ={"IXOPS_SECRET_LAB_V2C_COMMUNITY": "from-env"}, secrets_file=path
    )
    creds = store.snmp(V2)
    assert creds.community == Secret("from-env")
    assert CredentialStore(environ={}, secrets_file=path).snmp(V2).community == Secret("from-file")


def test_v3_and_ssh_from_file(tmp_path: Path) -> None:
    path = _secrets(
        tmp_path,
        "snmp:\n  core-v3: {user: ixops, auth_key: authkey123, priv_key: privkey123}\n"
        "ssh:\n  lab-ssh: {username: ops, password: hunter2hunter2}\n",
    )
    store = CredentialStore(environ={}, secrets_file=path)
    v3 = store.snmp(V3)
    assert (v3.user, v3.auth_protocol, v3.priv_protocol) == ("ixops", "SHA", "AES")
    assert v3.auth_key is not None
    assert v3.auth_key.reveal() == "authkey123"
    ssh = store.ssh(SSH)
    assert ssh.username == "ops"
    assert ssh.password is not None
    assert ssh.password.reveal() == "hunter2hunter2"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_secrets_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = _secrets(tmp_path, "snmp:\n  lab-v2c: {community: s3cr3t-value}\n", mode)
    with pytest.raises(CredentialError) as info:
        load_secrets_file(path)
    message = str(info.value)
    assert f"mode is {mode:04o}" in message
    assert f"chmod 600 {path}" in message
    assert "s3cr3t-value" not in message


def test_missing_value_names_the_variable_and_file(tmp_path: Path) -> None:
    path = _secrets(tmp_path, "")
    with pytest.raises(CredentialError) as info:
        CredentialStore(environ={}, secrets_file=path).snmp(V2)
    assert "IXOPS_SECRET_LAB_V2C_COMMUNITY" in str(info.value)
    assert "snmp.lab-v2c.community" in str(info.value)


def test_short_v3_keys_are_refused() -> None:
    env = {
        "IXOPS_SECRET_CORE_V3_USER": "u",
        "IXOPS_SECRET_CORE_V3_AUTH_KEY": "short",
        "IXOPS_SECRET_CORE_V3_PRIV_KEY": "longenough",
    }
    with pytest.raises(CredentialError, match="at least 8 characters"):
        CredentialStore(environ=env).snmp(V3)


def test_broken_secrets_yaml_does_not_echo_its_content(tmp_path: Path) -> None:
    path = _secrets(tmp_path, "snmp:\n  lab-v2c: {community: leaky-value\n")
    with pytest.raises(CredentialError) as info:
        load_secrets_file(path)
    assert "leaky-value" not in str(info.value)
    assert str(path) in str(info.value)


def test_secret_never_prints(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret("top-secret-community")
    creds = CredentialStore(
        environ={"IXOPS_SECRET_LAB_V2C_COMMUNITY": "top-secret-community"}
    ).snmp(V2)
    logging.getLogger("ixops.test").warning("credentials %s %r %s", creds, creds, secret)
    assert "top-secret-community" not in caplog.text
    assert "********" in caplog.text
    try:
        raise RuntimeError(f"failed with {creds!r}")
    except RuntimeError:
        assert "top-secret-community" not in traceback.format_exc()
    with pytest.raises(TypeError):
        __import__("pickle").dumps(secret)
