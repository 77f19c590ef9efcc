"""Transports against a real aiosmtpd server on a loopback port, in the test's event loop.

No mocks: the server (tests/smtp_server.py) speaks SMTP over TCP (and TLS); its Recorder
handler scripts the faults.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import mailbox
import re
import shutil
import ssl
import subprocess
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smtp_server import Recorder, free_port, smtp_server

from reminderd.mail.message import RenderedMail, build_message, message_id_for
from reminderd.mail.transport import (
    MaildirTransport,
    PermanentSendError,
    SendResult,
    SmtpSetupError,
    SmtpTransport,
    TransientSendError,
    Transport,
    UncertainSendError,
    smtp_payload,
)

SENDER = "lich@songoaivu.example"
DATE = datetime(2026, 6, 10, 1, 0, tzinfo=UTC)


def run(coro_fn: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(asyncio.wait_for(coro_fn(), 30))


def message(subject: str = "[Nhắc việc] 1 nhiệm vụ sắp đến hạn - Sở Văn hóa, Thể thao và "
            "Du lịch", keys: tuple[str, ...] = ("k",), to: tuple[str, ...] = ("a@x.test",)
            ) -> bytes:
    mail = RenderedMail(subject, "Kính gửi: Sở Văn hóa, Thể thao và Du lịch\n.\n..\n",
                        "<p>Kính gửi</p>\n")
    return build_message(mail, sender=f"Sở Ngoại vụ <{SENDER}>", to=to,
                         message_id=message_id_for(keys, "songoaivu.example"), ics=None,
                         date=DATE)


def plain(**kw: Any) -> SmtpTransport:
    return SmtpTransport("127.0.0.1", kw.pop("port"), security="none", timeout=5.0, **kw)


# --- delivery --------------------------------------------------------------------------


def test_delivery_exact_recipients_and_one_connection() -> None:
    handler = Recorder()

    async def go() -> list[SendResult]:
        async with smtp_server(handler) as port, plain(port=port) as transport:
            results = []
            for i in range(5):
                to = [f"so{i}@example.gov.vn", f"vp{i}@example.gov.vn"]
                results.append(await transport.send(SENDER, to, message(keys=(str(i),))))
            return results

    results = run(go)
    assert handler.connections == 1
    assert [r.accepted for r in results] == [
        [f"so{i}@example.gov.vn", f"vp{i}@example.gov.vn"] for i in range(5)]
    assert all(r.refused == {} for r in results)
    assert [(d.mail_from, d.rcpt_tos) for d in handler.delivered] == [
        (SENDER, [f"so{i}@example.gov.vn", f"vp{i}@example.gov.vn"]) for i in range(5)]


def test_content_and_vietnamese_subject_survive_the_round_trip() -> None:
    handler = Recorder()
    subjects = [
        "[Nhắc việc] 3 nhiệm vụ sắp đến hạn (gần nhất 12/06/2026), 1 nhiệm vụ đã quá hạn - "
        "Sở Văn hóa, Thể thao và Du lịch",
        "[Nhắc việc] 1 sự kiện sắp diễn ra (06/08/2026) - Ủy ban nhân dân huyện Lục Ngạn, "
        "phòng họp tầng tư, Hội hữu nghị Việt Nam - Lào tỉnh Bắc Giang",
    ]
    sent = [message(s, keys=(s,)) for s in subjects]

    async def go() -> None:
        async with smtp_server(handler) as port, plain(port=port) as transport:
            for raw in sent:
                await transport.send(f"Sở Ngoại vụ <{SENDER}>", ["a@x.test"], raw)

    run(go)
    assert [d.content for d in handler.delivered] == sent  # dots unstuffed
    for subject, delivered in zip(subjects, handler.delivered, strict=True):
        msg = delivered.parsed()
        assert msg["Subject"] == subject
        assert msg.get_body(("plain",)).get_content().startswith(  # type: ignore[union-attr]
            "Kính gửi: Sở Văn hóa")


def test_reused_connection_dropped_between_messages_reconnects_once(
        caplog: pytest.LogCaptureFixture) -> None:
    handler = Recorder()
    caplog.set_level(logging.INFO, logger="reminderd.mail_transport")

    async def go() -> None:
        async with smtp_server(handler) as port, plain(port=port) as transport:
            await transport.send(SENDER, ["a@x.test"], message())
            # the relay closes the idle connection; the client has not noticed yet
            handler.protocols[-1].transport.close()  # type: ignore[union-attr]
            await transport.send(SENDER, ["b@x.test"], message(keys=("2",)))
            # and once more, after the client has seen the close
            handler.protocols[-1].transport.close()  # type: ignore[union-attr]
            await asyncio.sleep(0.05)
            await transport.send(SENDER, ["c@x.test"], message(keys=("3",)))

    run(go)
    assert [d.rcpt_tos for d in handler.delivered] == [["a@x.test"], ["b@x.test"], ["c@x.test"]]
    assert handler.connections == 3
    # the first drop was found by MAIL FROM failing (reconnect once), the second before it
    reconnects = [r for r in caplog.records if str(r.msg).startswith("mail.reconnect")]
    assert len(reconnects) == 1


# --- faults ----------------------------------------------------------------------------


def test_transient_replies_then_accepted_none_twice() -> None:
    handler = Recorder()
    handler.data_replies = ["451 4.3.0 try again later", "451 4.7.1 greylisted"]
    handler.mail_replies = ["421 4.3.2 service shutting down"]
    outcomes: list[object] = []

    async def go() -> None:
        async with smtp_server(handler) as port, plain(port=port) as transport:
            for _ in range(5):
                try:
                    outcomes.append(await transport.send(SENDER, ["a@x.test"], message()))
                    break
                except TransientSendError as exc:
                    outcomes.append(exc.code)

    run(go)
    assert outcomes[:3] == [421, 451, 451]
    assert isinstance(outcomes[3], SendResult)
    assert len(handler.delivered) == 1
    assert handler.connections == 2  # 421 closes the connection; 451 does not


def test_permanent_failure_then_the_connection_still_works() -> None:
    handler = Recorder()
    handler.data_replies = ["550 5.7.1 message refused"]

    async def go() -> SendResult:
        async with smtp_server(handler) as port, plain(port=port) as transport:
            with pytest.raises(PermanentSendError) as info:
                await transport.send(SENDER, ["a@x.test"], message())
            assert info.value.code == 550 and "message refused" in str(info.value)
            return await transport.send(SENDER, ["b@x.test"], message(keys=("2",)))

    assert run(go).accepted == ["b@x.test"]
    assert handler.connections == 1
    assert [d.rcpt_tos for d in handler.delivered] == [["b@x.test"]]


def test_partial_refusal_is_recorded() -> None:
    handler = Recorder()
    handler.refuse = {"gone@x.test": "550 5.1.1 no such user", "full@x.test": "452 4.2.2 full"}

    async def go() -> SendResult:
        async with smtp_server(handler) as port, plain(port=port) as transport:
            return await transport.send(SENDER, ["gone@x.test", "ok@x.test", "full@x.test"],
                                        message())

    result = run(go)
    assert result.accepted == ["ok@x.test"]
    assert result.refused == {"gone@x.test": "550 5.1.1 no such user",
                              "full@x.test": "452 4.2.2 full"}
    assert result.temporarily_refused == ["full@x.test"]
    assert [d.rcpt_tos for d in handler.delivered] == [["ok@x.test"]]


def test_every_recipient_refused() -> None:
    handler = Recorder()
    handler.refuse = {"a@x.test": "550 5.1.1 no such user", "b@x.test": "450 4.2.1 busy"}

    async def go() -> None:
        async with smtp_server(handler) as port, plain(port=port) as transport:
            with pytest.raises(PermanentSendError) as info:
                await transport.send(SENDER, ["a@x.test"], message())
            assert info.value.refused == {"a@x.test": "550 5.1.1 no such user"}
            with pytest.raises(TransientSendError) as transient:  # one of them was 4xx
                await transport.send(SENDER, ["a@x.test", "b@x.test"], message())
            assert set(transient.value.refused) == {"a@x.test", "b@x.test"}

    run(go)
    assert handler.delivered == []


def test_connection_dropped_after_data_is_uncertain() -> None:
    handler = Recorder()
    handler.drop_after_data = 1

    async def go() -> SendResult:
        async with smtp_server(handler) as port, plain(port=port) as transport:
            with pytest.raises(UncertainSendError) as info:
                await transport.send(SENDER, ["a@x.test"], message())
            assert not isinstance(info.value, TransientSendError)
            assert "may have been delivered" in str(info.value)
            return await transport.send(SENDER, ["a@x.test"], message())  # the retry

    assert run(go).accepted == ["a@x.test"]
    assert len(handler.delivered) == 1
    assert handler.connections == 2


def test_server_down_fails_fast_and_once_per_pass() -> None:
    port = free_port()  # nothing listens here

    async def go() -> None:
        async with SmtpTransport("127.0.0.1", port, security="none", timeout=5.0) as t:
            started = time.perf_counter()
            with pytest.raises(TransientSendError) as info:
                await t.send(SENDER, ["a@x.test"], message())
            assert time.perf_counter() - started < 2.0
            assert info.value.connection and not isinstance(info.value, SmtpSetupError)
            with pytest.raises(TransientSendError, match="earlier in this pass"):
                await t.send(SENDER, ["b@x.test"], message())
            assert t.connections == 0

    run(go)


def test_silent_server_times_out_as_transient() -> None:
    async def go() -> None:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(10)  # accepts, never greets

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with SmtpTransport("127.0.0.1", port, security="none", timeout=0.5) as t:
                started = time.perf_counter()
                with pytest.raises(TransientSendError):
                    await t.send(SENDER, ["a@x.test"], message())
                assert time.perf_counter() - started < 3.0
        finally:
            server.close()

    run(go)


# --- TLS -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command (the
    `cryptography` package is not in the environment)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("neither the cryptography package nor the openssl command is available")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    done = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj",
         "/CN=relay.test", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        capture_output=True, check=False, timeout=60)
    if done.returncode != 0:
        pytest.skip(f"openssl could not make a test certificate: {done.stderr.decode()[:200]}")
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificate[0]), str(certificate[1]))
    return context


def client_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def test_starttls_required_but_not_offered_sends_nothing() -> None:
    handler = Recorder()

    async def go() -> None:
        async with (smtp_server(handler) as port,
                    SmtpTransport("127.0.0.1", port, security="starttls",
                                  timeout=5.0) as transport):
            with pytest.raises(SmtpSetupError, match="STARTTLS"):
                await transport.send(SENDER, ["a@x.test"], message())

    run(go)
    assert handler.mail_commands == 0 and handler.delivered == []


def test_starttls_with_self_signed_certificate(certificate: tuple[Path, Path]) -> None:
    handler = Recorder()

    async def go() -> None:
        async with (smtp_server(handler, starttls=server_context(certificate)) as port,
                    SmtpTransport("127.0.0.1", port, security="starttls", timeout=5.0,
                                  tls_context=client_context(certificate)) as transport):
            await transport.send(SENDER, ["a@x.test"], message())
            await transport.send(SENDER, ["b@x.test"], message(keys=("2",)))

    run(go)
    assert [(d.rcpt_tos, d.tls) for d in handler.delivered] == [
        (["a@x.test"], True), (["b@x.test"], True)]
    assert handler.connections == 1


def test_starttls_certificate_is_verified(certificate: tuple[Path, Path]) -> None:
    handler = Recorder()

    async def go() -> None:
        # the system's default trust store does not know the self-signed certificate
        async with (smtp_server(handler, starttls=server_context(certificate)) as port,
                    SmtpTransport("127.0.0.1", port, security="starttls",
                                  timeout=5.0) as transport):
            with pytest.raises(SmtpSetupError, match="TLS"):
                await transport.send(SENDER, ["a@x.test"], message())

    run(go)
    assert handler.mail_commands == 0 and handler.delivered == []


def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    handler = Recorder()

    async def go() -> None:
        async with (smtp_server(handler, implicit_tls=server_context(certificate)) as port,
                    SmtpTransport("127.0.0.1", port, security="tls", timeout=5.0,
                                  tls_context=client_context(certificate)) as transport):
            await transport.send(SENDER, ["a@x.test"], message())

    run(go)
    assert [(d.rcpt_tos, d.tls) for d in handler.delivered] == [(["a@x.test"], True)]


def test_configuration_checks(tmp_path: Path) -> None:
    transports: list[Transport] = [  # both satisfy the Protocol (checked by mypy)
        SmtpTransport("h", 587, security="starttls", timeout=1), MaildirTransport(tmp_path)]
    assert len(transports) == 2
    with pytest.raises(ValueError, match="without TLS"):
        SmtpTransport("h", 25, security="none", username="u", password="p", timeout=1)
    with pytest.raises(ValueError):
        SmtpTransport("h", 25, security="ssl", timeout=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SmtpTransport("h", 587, security="starttls", username="u", password=None, timeout=1)


def test_bad_address_is_permanent_and_sends_nothing() -> None:
    handler = Recorder()

    async def go() -> None:
        async with smtp_server(handler) as port, plain(port=port) as transport:
            with pytest.raises(PermanentSendError):
                await transport.send(SENDER, ["a@x.test\r\nRCPT TO:<b@x.test>"], message())

    run(go)
    assert handler.mail_commands == 0


# --- Maildir ---------------------------------------------------------------------------


def test_maildir_one_file_per_message_that_parses_back(tmp_path: Path) -> None:
    subjects = ["[Nhắc việc] 2 nhiệm vụ sắp đến hạn (gần nhất 12/06/2026) - Sở Nội vụ",
                "[Nhắc việc] 1 nhiệm vụ đã quá hạn - Ủy ban nhân dân huyện Yên Thế"]
    outbox = tmp_path / "var" / "outbox"

    async def go() -> list[SendResult]:
        async with MaildirTransport(outbox) as transport:
            return [await transport.send(f"Sở Ngoại vụ <{SENDER}>",
                                         ["a@x.test", "b@x.test"], message(s, keys=(s,)))
                    for s in subjects]

    results = run(go)
    assert [r.accepted for r in results] == [["a@x.test", "b@x.test"]] * 2
    assert list((outbox / "tmp").iterdir()) == []
    files = sorted((outbox / "new").iterdir())
    assert len(files) == 2
    parsed = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
              for f in files]
    assert sorted(m["Subject"] for m in parsed) == sorted(subjects)
    for msg in parsed:
        assert msg["Return-Path"] == f"<{SENDER}>"
        assert msg["X-Envelope-To"] == "a@x.test, b@x.test"
        assert msg.get_content_type() == "multipart/alternative"
    assert b"\r\n" not in files[0].read_bytes()  # local line ends in a Maildir
    assert len(mailbox.Maildir(outbox, create=False)) == 2


def test_maildir_unwritable_is_transient(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")

    async def go() -> None:
        transport = MaildirTransport(blocker / "outbox")
        with pytest.raises(TransientSendError):
            async with transport:
                await transport.send(SENDER, ["a@x.test"], message())

    run(go)


def _payload_by_regex(message: bytes) -> tuple[bytes, int]:
    """The plain reference: normalise every line end, then dot-stuff every line."""
    body = re.sub(rb"\r\n|\r|\n", b"\r\n", message)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return re.sub(rb"(?m)^\.", b"..", body) + b".\r\n", len(body)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([b"a", b".", b"\r", b"\n", b"\r\n", b"..", b"x.y", b"\xc3\xa1"]),
                max_size=40).map(b"".join))
def test_smtp_payload_equals_the_plain_rewrite(message: bytes) -> None:
    """The fast path (already CRLF, no line starting with a dot) changes nothing."""
    assert smtp_payload(message) == _payload_by_regex(message)


def test_smtp_payload_of_a_built_message_is_the_message() -> None:
    raw = message("[Nhắc việc] Hạn 12/06/2026", keys=("k",))
    assert smtp_payload(raw) == (raw + b".\r\n", len(raw))
