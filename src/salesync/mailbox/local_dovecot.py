"""A throw-away local Dovecot (Debian's dovecot-imapd): for the demo and the tests.

It runs as the current user with its own configuration in one folder: free ports on
127.0.0.1 (plain IMAP with STARTTLS, and implicit TLS), a self-signed certificate,
passwd-file users, maildir storage and SPECIAL-USE folders (Sent, Junk, Drafts, Trash). Mail is
filed as a client files it: IMAP APPEND. Nothing here is used to read a rep's real mailbox.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from salesync.mail.tls import SelfSignedCertificate

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"
INSTALL_HINT = "Dovecot is not installed: run `apt-get install dovecot-imapd` (Debian/Ubuntu)."

_CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{users}
first_valid_uid = 0
mail_location = maildir:{root}/mail/%u
disable_plaintext_auth = no
mailbox_idle_check_interval = 1 secs
auth_mechanisms = plain login
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
  default_fields = uid={uid} gid={gid} home={root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \\Junk
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = create
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = create
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service stats {{
  inet_listener http {{
    port = 0
  }}
}}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Dovecot:
    """A running Dovecot and its accounts."""

    root: Path
    imap_port: int
    imaps_port: int
    certificate: SelfSignedCertificate
    passwords: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    def client_context(self) -> ssl.SSLContext:
        return self.certificate.client_context()

    def add_user(self, username: str, password: str) -> None:
        self.passwords[username] = password
        self._write_users()

    def set_password(self, username: str, password: str) -> None:
        self.add_user(username, password)

    def _write_users(self) -> None:
        lines = [f"{name}:{{PLAIN}}{secret}::::::" for name, secret in self.passwords.items()]
        # A new file, not an edit: Dovecot rereads the users when the file itself changes.
        fresh = self.root / "users.new"
        fresh.write_text("\n".join(lines) + "\n")
        fresh.replace(self.root / "users")

    def start(self) -> None:
        if self.process is not None:
            return
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"dovecot exited: {err}\n{self.log()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.imap_port), timeout=0.5) as sock,
            ):
                if sock.recv(100).startswith(b"* OK"):
                    return
            time.sleep(0.1)
        raise RuntimeError(f"dovecot did not start: {self.log()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None
        # The children close their listeners a moment after the master is gone.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.imap_port), timeout=0.2).close()
            except OSError:
                return
            time.sleep(0.1)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    @contextlib.contextmanager
    def client(self, username: str) -> Iterator[imaplib.IMAP4]:
        connection = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        try:
            connection.login(username, self.passwords[username])
            yield connection
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                connection.logout()

    def deliver(
        self, username: str, folder: str, raw: bytes, *, when: dt.datetime | None = None
    ) -> None:
        """File ``raw`` into ``folder`` with IMAP APPEND, as a mail client does."""
        moment = when or dt.datetime.now(dt.UTC)
        with self.client(username) as imap:
            status, data = imap.append(folder, "", imaplib.Time2Internaldate(moment), raw)
            assert status == "OK", data

    def deliver_many(self, username: str, folder: str, messages: list[bytes]) -> None:
        """File many messages over one IMAP session."""
        moment = imaplib.Time2Internaldate(dt.datetime.now(dt.UTC))
        with self.client(username) as imap:
            for raw in messages:
                status, data = imap.append(folder, "", moment, raw)
                if status != "OK":
                    raise RuntimeError(f"APPEND refused: {data!r}")

    def flags(self, username: str, folder: str) -> list[bytes]:
        with self.client(username) as imap:
            imap.select(folder, readonly=True)
            _, data = imap.fetch("1:*", "(FLAGS)")
            return [d for d in data if isinstance(d, bytes)]

    def new_uid_validity(self, username: str, folder: str, value: int) -> None:
        """What a server rebuild does: the folder's UIDVALIDITY changes, UIDs restart."""
        subprocess.run(
            [DOVEADM, "-c", str(self.config), "mailbox", "update", "-u", username,
             "--uid-validity", str(value), folder],
            check=True, capture_output=True,
        )  # fmt: skip


def _users_config() -> tuple[str, int, int]:
    """Who runs what: as root, Dovecot's own service users; otherwise everything as us."""
    if os.geteuid() == 0:
        # Dovecot never gives mail access as root: the mail belongs to its own user.
        owner = pwd.getpwnam("dovecot")
        return "", owner.pw_uid, owner.pw_gid
    me = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    lines = (
        f"default_internal_user = {me}\ndefault_internal_group = {group}\n"
        f"default_login_user = {me}\n"
    )
    return lines, os.getuid(), os.getgid()


def installed() -> bool:
    return os.path.exists(DOVECOT)


def make_dovecot(root: Path) -> Dovecot:
    """Write a configuration for a Dovecot serving ``root`` (started with ``start()``)."""
    if not installed():
        raise FileNotFoundError(INSTALL_HINT)
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    certificate = SelfSignedCertificate.generate(now=dt.datetime.now(dt.UTC))
    (root / "cert.pem").write_bytes(certificate.certificate_pem)
    (root / "key.pem").write_bytes(certificate.private_key_pem)
    (root / "key.pem").chmod(0o600)
    users, uid, gid = _users_config()
    server = Dovecot(root, _free_port(), _free_port(), certificate)
    server.config.write_text(
        _CONFIG.format(
            root=root,
            users=users,
            uid=uid,
            gid=gid,
            imap_port=server.imap_port,
            imaps_port=server.imaps_port,
        )
    )
    for folder in ("mail", "home"):
        (root / folder).mkdir(exist_ok=True)
        os.chown(root / folder, uid, gid)
    server._write_users()
    return server


def _die_with_parent() -> None:
    """Linux: Dovecot gets SIGTERM when the process that started it dies, however it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # elsewhere the demo's exit handler and the tests' teardown stop it
