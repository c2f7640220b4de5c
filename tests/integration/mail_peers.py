"""A real IMAP server for the mail tests: Debian's dovecot, unprivileged, on a free loopback
port, with a throwaway configuration and one mailbox. Imported explicitly by the mail tests."""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

MAILBOX_USER = "helpdesk"
MAILBOX_PASSWORD = "mailbox-test-password"  # a throwaway server's, never a real one


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(self.user, self.password)
        client.select("INBOX")
        return client

    def deliver(self, message: EmailMessage) -> None:
        """Put a mail in the inbox, unseen, as the mail server's delivery would."""
        client = self.client()
        try:
            status, _ = client.append("INBOX", None, None, message.as_bytes())
            assert status == "OK"
        finally:
            client.logout()

    def empty(self) -> None:
        client = self.client()
        try:
            client.store("1:*", "+FLAGS", "(\\Deleted)")
            client.expunge()
        except imaplib.IMAP4.error:
            pass  # an empty mailbox has no 1:*
        finally:
            client.logout()

    def unseen(self) -> int:
        client = self.client()
        try:
            status, found = client.search(None, "UNSEEN")
            return len(found[0].split()) if status == "OK" and found[0] else 0
        finally:
            client.logout()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not Path(dovecot).exists():
        pytest.fail("dovecot is not installed (scripts/test installs dovecot-imapd)")
    # Not under pytest's temporary directory: that is private to root, and dovecot runs as
    # nobody when the tests run as root.
    root = Path(tempfile.mkdtemp(prefix="ixops-dovecot-"))
    # Never as root: as root, run everything as nobody; otherwise as whoever runs the tests.
    as_root = os.geteuid() == 0
    user = "nobody" if as_root else pwd.getpwuid(os.geteuid()).pw_name
    group = "nogroup" if as_root else grp.getgrgid(os.getegid()).gr_name
    port = _free_port()
    for sub in ("run", "state", "home"):
        (root / sub).mkdir()
    (root / "passwd").write_text(f"{MAILBOX_USER}:{{PLAIN}}{MAILBOX_PASSWORD}\n")
    (root / "dovecot.conf").write_text(
        f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_location = maildir:{root}/home/%u/Maildir
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/home/%u
}}
""",
        encoding="utf-8",
    )
    command = [dovecot, "-F", "-c", str(root / "dovecot.conf")]
    if as_root:
        shutil.chown(root, user, group)
        for path in root.rglob("*"):
            shutil.chown(path, user, group)
        root.chmod(0o755)
        command = ["setpriv", "--reuid", user, "--regid", group, "--clear-groups", *command]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=root)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                process.kill()
                pytest.fail(f"dovecot did not start: {output}\n{log}")
            time.sleep(0.05)
    try:
        yield ImapServer("127.0.0.1", port, MAILBOX_USER, MAILBOX_PASSWORD)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
