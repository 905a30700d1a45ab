"""Connecting to SMTP servers on loopback: plain, logged in, STARTTLS and implicit TLS, and each
way it can fail reported with its step and the server's answer."""

from __future__ import annotations

import pickle
import socket
from pathlib import Path

import pytest

from core.enums import SmtpStage, SmtpTlsMode
from storage.smtp import SmtpEndpoint, SmtpFailure, connect, probe, send_data, send_envelope
from tests.smtp_server import (
    PASSWORD,
    USER,
    Certificate,
    Recorder,
    make_certificate,
    recording_server,
    silent_server,
    smtp_server,
)

LIMIT = 5.0


@pytest.fixture(scope="module")
def certificate() -> Certificate:
    return make_certificate()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestAPlainServer:
    async def test_answers_ok_with_its_greeting(self) -> None:
        async with smtp_server() as server:
            outcome = await probe(
                SmtpEndpoint(server.host, server.port, SmtpTlsMode.NONE),
                allow_private=True,
                time_limit=LIMIT,
            )
        assert outcome.ok
        assert (outcome.stage, outcome.code) == (SmtpStage.CONNECT, 220)
        assert "Test ESMTP" in outcome.message

    async def test_that_offers_no_starttls_fails_at_the_tls_step(self) -> None:
        async with smtp_server() as server:
            outcome = await probe(
                SmtpEndpoint(server.host, server.port, SmtpTlsMode.STARTTLS),
                allow_private=True,
                time_limit=LIMIT,
            )
        assert not outcome.ok
        assert outcome.stage is SmtpStage.TLS
        assert "STARTTLS" in outcome.message

    async def test_a_connection_can_send_a_message(self) -> None:
        async with smtp_server() as server:
            connection = await connect(
                SmtpEndpoint(server.host, server.port, SmtpTlsMode.NONE),
                allow_private=True,
                time_limit=LIMIT,
            )
            await connection.client.sendmail(
                "me@label.example", ["dj@artist.example"], "Subject: hi\r\n\r\nhello\r\n"
            )
            await connection.close(LIMIT)
        assert [m.rcpt_tos for m in server.sink.messages] == [["dj@artist.example"]]


class TestHandingOverAMessage:
    async def test_the_envelope_then_the_data_deliver_it(self) -> None:
        recorder = Recorder()
        async with recording_server(recorder) as server:
            connection = await connect(
                SmtpEndpoint(server.host, server.port, SmtpTlsMode.NONE),
                allow_private=True,
                time_limit=LIMIT,
            )
            await send_envelope(connection, "me@label.example", "dj@artist.example", LIMIT)
            reply = await send_data(connection, b"Subject: hi\r\n\r\nhello\r\n", LIMIT)
            await connection.close(LIMIT)
        assert reply.code == 250
        assert [r.to for r in recorder.received] == ["dj@artist.example"]

    async def test_a_refused_recipient_fails_at_rcpt_with_the_servers_answer(self) -> None:
        recorder = Recorder(refuse={"gone@artist.example": 550})
        async with recording_server(recorder) as server:
            connection = await connect(
                SmtpEndpoint(server.host, server.port, SmtpTlsMode.NONE),
                allow_private=True,
                time_limit=LIMIT,
            )
            with pytest.raises(SmtpFailure) as raised:
                await send_envelope(connection, "me@label.example", "gone@artist.example", LIMIT)
            await connection.close(LIMIT)
        failure = raised.value
        assert (failure.stage, failure.code) == (SmtpStage.RCPT, 550)
        assert str(failure) == "rcpt: 550 mailbox unavailable"
        # A sender actor raises it to its caller: Ray pickles it on the way.
        copy = pickle.loads(pickle.dumps(failure))
        assert (copy.stage, copy.code, copy.message, str(copy)) == (
            failure.stage,
            failure.code,
            failure.message,
            str(failure),
        )


class TestLogin:
    async def test_the_right_password_is_accepted(self) -> None:
        async with smtp_server(auth=True) as server:
            outcome = await probe(
                SmtpEndpoint(server.host, server.port, SmtpTlsMode.NONE, USER, PASSWORD),
                allow_private=True,
                time_limit=LIMIT,
            )
        assert outcome.ok
        assert (outcome.stage, outcome.code) == (SmtpStage.AUTH, 235)

    async def test_a_wrong_password_reports_the_servers_refusal(self) -> None:
        async with smtp_server(auth=True) as server:
            outcome = await probe(
                SmtpEndpoint(server.host, server.port, SmtpTlsMode.NONE, USER, "wrong-guess"),
                allow_private=True,
                time_limit=LIMIT,
            )
        assert not outcome.ok
        assert (outcome.stage, outcome.code) == (SmtpStage.AUTH, 535)
        assert "wrong-guess" not in outcome.message


class TestTls:
    async def test_starttls_with_a_trusted_certificate_then_login(
        self, certificate: Certificate, tmp_path: Path
    ) -> None:
        async with smtp_server(auth=True, starttls=certificate.server_context(tmp_path)) as server:
            outcome = await probe(
                SmtpEndpoint(server.host, server.port, SmtpTlsMode.STARTTLS, USER, PASSWORD),
                allow_private=True,
                time_limit=LIMIT,
                tls_context=certificate.client_context(),
            )
        assert outcome.ok, outcome
        assert (outcome.stage, outcome.code) == (SmtpStage.AUTH, 235)

    async def test_starttls_with_an_untrusted_certificate_fails_at_the_tls_step(
        self, certificate: Certificate, tmp_path: Path
    ) -> None:
        async with smtp_server(starttls=certificate.server_context(tmp_path)) as server:
            outcome = await probe(
                SmtpEndpoint(server.host, server.port, SmtpTlsMode.STARTTLS),
                allow_private=True,
                time_limit=LIMIT,
            )
        assert not outcome.ok
        assert outcome.stage is SmtpStage.TLS
        assert "certificate" in outcome.message

    async def test_implicit_tls_with_a_trusted_certificate(
        self, certificate: Certificate, tmp_path: Path
    ) -> None:
        async with smtp_server(implicit_tls=certificate.server_context(tmp_path)) as server:
            outcome = await probe(
                SmtpEndpoint(server.host, server.port, SmtpTlsMode.TLS),
                allow_private=True,
                time_limit=LIMIT,
                tls_context=certificate.client_context(),
            )
        assert outcome.ok, outcome
        assert (outcome.stage, outcome.code) == (SmtpStage.TLS, 220)

    async def test_implicit_tls_against_a_plain_server_fails_at_the_tls_step(self) -> None:
        async with smtp_server() as server:
            outcome = await probe(
                SmtpEndpoint(server.host, server.port, SmtpTlsMode.TLS),
                allow_private=True,
                time_limit=LIMIT,
            )
        assert not outcome.ok
        assert outcome.stage is SmtpStage.TLS


class TestNoServer:
    async def test_a_closed_port_is_a_failed_connect(self) -> None:
        outcome = await probe(
            SmtpEndpoint("127.0.0.1", _free_port(), SmtpTlsMode.NONE),
            allow_private=True,
            time_limit=LIMIT,
        )
        assert not outcome.ok
        assert (outcome.stage, outcome.code) == (SmtpStage.CONNECT, None)
        assert "cannot connect" in outcome.message

    async def test_a_server_that_never_greets_is_given_up_on_within_the_limit(self) -> None:
        async with silent_server() as port:
            outcome = await probe(
                SmtpEndpoint("127.0.0.1", port, SmtpTlsMode.NONE),
                allow_private=True,
                time_limit=0.5,
            )
        assert not outcome.ok
        assert outcome.stage is SmtpStage.CONNECT
        assert "no answer within 0.5 s" in outcome.message

    async def test_a_name_that_does_not_resolve_is_a_failed_connect(self) -> None:
        outcome = await probe(
            SmtpEndpoint("no-such-host.invalid", 25, SmtpTlsMode.NONE),
            allow_private=True,
            time_limit=LIMIT,
        )
        assert not outcome.ok
        assert outcome.stage is SmtpStage.CONNECT
        assert "cannot resolve" in outcome.message


class TestRefusedAddresses:
    async def test_the_cloud_metadata_address_is_never_connected_to(self) -> None:
        outcome = await probe(
            SmtpEndpoint("169.254.169.254", 25, SmtpTlsMode.NONE),
            allow_private=True,
            time_limit=LIMIT,
        )
        assert not outcome.ok
        assert "refused to connect" in outcome.message
        assert "link-local" in outcome.message

    async def test_loopback_is_refused_when_private_hosts_are_not_allowed(self) -> None:
        async with smtp_server() as server:
            outcome = await probe(
                SmtpEndpoint(server.host, server.port, SmtpTlsMode.NONE),
                allow_private=False,
                time_limit=LIMIT,
            )
        assert not outcome.ok
        assert "refused to connect" in outcome.message
        assert server.sink.messages == []
