"""Secrets that hold and going live (issue 12): the feed secret, file modes, passwords
redacted, `reminderd check` on placeholder addresses and loopback links, an internal CA
trusted over real STARTTLS (aiosmtpd with a certificate from a CA made here by trustme)."""

from __future__ import annotations

import os
import resource
import ssl
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from daemon_proc import GOV_PLANS
from smtp_server import ThreadedSmtpServer, free_port

from reminderd.cli import main
from reminderd.config import ConfigError, load_settings, redact

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"

PLANS = GOV_PLANS.split("      - id: report")[0]  # one task: one mail at DUE
DUE = "2026-06-10T08:00:00+07:00"


def workspace(root: Path, *, mail: str = "", http: str = "", snv: str = "lich@songoaivu.gov.vn",
              store: str = "sqlite:///var/r.db") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "plans.yaml").write_text(PLANS.replace("{snv}", snv), encoding="utf-8")
    config = root / "reminderd.yaml"
    config.write_text(
        "plans: plans.yaml\n"
        f"templates: {TEMPLATES}\n"
        f'store: "{store}"\n'
        "var_dir: var\n"
        "mail:\n"
        + (mail or '  from: "Sở Ngoại vụ <lich@songoaivu.gov.vn>"\n  maildir: var/outbox\n')
        + "http:\n"
        f"  listen: 127.0.0.1:{free_port()}\n"
        f"  admin_listen: 127.0.0.1:{free_port()}\n"
        + (http or "  public_url: https://lich.songoaivu.gov.vn\n"),
        encoding="utf-8")
    return config


def run_cli(*args: str, env: dict[str, str] | None = None, fsize: int | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    full_env = {k: v for k, v in os.environ.items() if k != "REMINDERD_FEED_SECRET"}
    return subprocess.run([sys.executable, "-m", "reminderd.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env={**full_env, **(env or {})},
                          preexec_fn=limit)


# --- the feed secret ----------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("case", ["empty env", "short env", "empty file", "short file",
                                  "write failed"])
def test_a_weak_or_unwritten_secret_stops_start_up(tmp_path: Path, case: str) -> None:
    config = workspace(tmp_path)
    var = tmp_path / "var"
    env: dict[str, str] = {}
    fsize = None
    if case == "empty env":
        env["REMINDERD_FEED_SECRET"] = ""
    elif case == "short env":
        env["REMINDERD_FEED_SECRET"] = "x" * 31
    elif case in ("empty file", "short file"):
        var.mkdir(mode=0o700)
        (var / "feed-secret").write_bytes(b"" if case == "empty file" else b"abc\n")
    else:
        var.mkdir(mode=0o700)
        fsize = 0  # the disk is full: every write fails (EFBIG)
    done = run_cli("run", "--config", str(config), env=env, fsize=fsize)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "feed secret" in done.stderr, done.stderr
    if case == "write failed":
        assert "cannot write the feed secret" in done.stderr
        assert not (var / "feed-secret").exists()  # nothing half-written left behind
        assert not [p for p in var.iterdir() if ".tmp-" in p.name]
    elif "env" in case:
        assert "REMINDERD_FEED_SECRET" in done.stderr and "at least 32 bytes" in done.stderr
    else:
        assert f"{var / 'feed-secret'}:1:1: the feed secret is" in done.stderr
        assert "delete the file" in done.stderr
    # `check` says the same about a secret that exists
    if case != "write failed":
        checked = run_cli("check", "--config", str(config), env=env)
        assert checked.returncode == 1 and "feed secret" in checked.stderr, checked.stderr


def test_secret_var_store_and_maildir_are_private(tmp_path: Path) -> None:
    config = workspace(tmp_path)
    os.environ.pop("REMINDERD_FEED_SECRET", None)
    old = os.umask(0o022)  # the usual shell umask: the modes must not depend on it
    try:
        assert main(["send-due", "--config", str(config), "--now", DUE]) == 0
    finally:
        os.umask(old)
    var = tmp_path / "var"
    secret = var / "feed-secret"
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(bytes.fromhex(secret.read_text().strip())) == 32
    assert stat.S_IMODE((var / "r.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((var / "outbox").stat().st_mode) == 0o700
    assert list((var / "outbox" / "new").iterdir())  # the mail was written there


# --- redaction ----------------------------------------------------------------------------

def test_redact() -> None:
    assert redact("postgresql://reminderd:s3cr%40t@db:5432/r?x=1") == \
        "postgresql://reminderd:***@db:5432/r?x=1"
    assert redact("host=db password='a b' user=x") == "host=db password=*** user=x"
    assert redact("postgresql://db/r") == "postgresql://db/r"


@pytest.mark.slow
def test_store_password_is_redacted_at_start_up_and_in_outbox(tmp_path: Path) -> None:
    url = f"postgresql://reminderd:Hunter2-secret@127.0.0.1:{free_port()}/reminderd"
    config = workspace(tmp_path, store=url)
    env = {"REMINDERD_FEED_SECRET": "s" * 40}
    for args in (("run",), ("outbox",)):
        done = run_cli(*args, "--config", str(config), env=env)
        assert done.returncode != 0
        assert "Hunter2-secret" not in done.stdout + done.stderr, done.stderr
        assert "reminderd:***@127.0.0.1" in done.stderr, done.stderr


# --- going live: check ----------------------------------------------------------------------

def _check(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    os.environ["REMINDERD_FEED_SECRET"] = "s" * 40
    try:
        code = main(["check", "--config", str(config)])
    finally:
        os.environ.pop("REMINDERD_FEED_SECRET", None)
    out = capsys.readouterr()
    return code, out.out + out.err


SMTP = "  smtp: {host: smtp.songoaivu.gov.vn, port: 587}\n"


def test_check_warns_on_loopback_links_and_reserved_domains(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = workspace(tmp_path, mail='  from: "Sở Ngoại vụ <lich@songoaivu.example>"\n' + SMTP,
                       http="  public_url: http://127.0.0.1:8080\n",
                       snv="lich@songoaivu.test")
    code, out = _check(config, capsys)
    assert code == 0, out
    assert f"{config}:11:15: warning: http.public_url is http://127.0.0.1:8080, a loopback" \
        in out, out
    assert f"{config}:6:9: warning: mail.from" in out and "reserved domain" in out
    plans = tmp_path / "plans.yaml"
    assert f"{plans}:4:14: warning: agency 'snv': lich@songoaivu.test uses a reserved " \
           "domain" in out, out
    # without SMTP the mail stays in the Maildir: nothing to warn about
    quiet = workspace(tmp_path / "q", http="  public_url: http://127.0.0.1:8080\n",
                      snv="lich@songoaivu.test")
    code, out = _check(quiet, capsys)
    assert code == 0 and "warning: http.public_url" not in out and "reserved" not in out
    # a real public URL and real addresses: no warning
    fine = workspace(tmp_path / "f", mail='  from: "Sở Ngoại vụ <lich@songoaivu.gov.vn>"\n'
                     + SMTP)
    code, out = _check(fine, capsys)
    assert code == 0 and "warning: http.public_url" not in out and "reserved" not in out


@pytest.mark.parametrize("sender", ["a@songoaivu.gov.vn, b@songoaivu.gov.vn",
                                    "Sở Ngoại vụ <lich@localhost>",
                                    "lich@-bad-.gov.vn", "lich@@songoaivu.gov.vn",
                                    "Sở <lich@songoaivu.gov.vn> <x@y.vn>", "lich"])
def test_mail_from_is_one_address_with_a_valid_domain(tmp_path: Path, sender: str) -> None:
    config = workspace(tmp_path, mail=f'  from: "{sender}"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    assert f"{config}:6:9: 'mail.from'" in str(err.value)
    assert "write one address with a valid domain" in str(err.value)


def test_public_calendar_with_contacts_is_refused(tmp_path: Path) -> None:
    config = workspace(tmp_path)
    config.write_text(config.read_text() + "feeds:\n  public_calendar: true\n"
                      "  include_contacts: true\n")
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    assert "e-mail address on the public listener" in str(err.value)


# --- an internal CA, over real STARTTLS -----------------------------------------------------

@pytest.fixture
def tls_relay(tmp_path: Path) -> Iterator[tuple[ThreadedSmtpServer, Path]]:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "internal-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with ThreadedSmtpServer(starttls=server_context) as relay:
        yield relay, ca_file


def test_ca_file_trusts_an_internal_ca_and_certificates_are_verified(
        tmp_path: Path, tls_relay: tuple[ThreadedSmtpServer, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    relay, ca_file = tls_relay
    smtp = f"  smtp: {{host: 127.0.0.1, port: {relay.port}, security: starttls, " \
           "timeout_seconds: 5"
    os.environ["REMINDERD_FEED_SECRET"] = "s" * 40
    try:
        # without the CA: the certificate does not verify, nothing is sent (retried later)
        plain = workspace(tmp_path / "plain", mail=f'  from: "lich@songoaivu.gov.vn"\n{smtp}}}\n')
        assert main(["send-due", "--config", str(plain), "--now", DUE]) == 0
        assert relay.handler.delivered == []
        out = capsys.readouterr().out
        assert "1 to retry" in out, out
        # with mail.smtp.ca_file: verified against that CA, delivered over TLS
        trusted = workspace(tmp_path / "ca", mail=f'  from: "lich@songoaivu.gov.vn"\n{smtp}, '
                            f"ca_file: {ca_file}}}\n")
        assert main(["send-due", "--config", str(trusted), "--now", DUE]) == 0
        assert len(relay.handler.delivered) == 1 and relay.handler.delivered[0].tls
        # a CA file that is not one: check says so, with the place
        bad = workspace(tmp_path / "bad", mail=f'  from: "lich@songoaivu.gov.vn"\n{smtp}, '
                        f"ca_file: {tmp_path / 'plans-not-a-ca.pem'}}}\n")
        (tmp_path / "plans-not-a-ca.pem").write_text("not a certificate\n")
        capsys.readouterr()
    finally:
        os.environ.pop("REMINDERD_FEED_SECRET", None)
    code, out = _check(bad, capsys)
    assert code == 1 and f"{bad}:7:" in out and "mail.smtp.ca_file" in out, out


def test_systemd_unit_is_hardened() -> None:
    unit = (ROOT / "config" / "reminderd.service").read_text(encoding="utf-8")
    settings = dict(line.split("=", 1) for line in unit.splitlines()
                    if "=" in line and not line.startswith("#"))
    assert int(settings["LimitNOFILE"]) >= 4096
    assert settings["UMask"] == "0077"
    assert settings["NoNewPrivileges"] == "true"
    assert settings["ProtectSystem"] == "strict"
    assert settings["ReadWritePaths"] == "/opt/reminderd/var"
    assert settings["PrivateTmp"] == "true"
