"""Signed link tokens for sent mail: open pixel, click redirects, unsubscribe (no I/O)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import string
from collections.abc import Callable
from uuid import UUID

import pytest

from core.errors import InvalidInput, NotFound
from core.link_tokens import (
    MAX_TARGET_URL_BYTES,
    MAX_TOKEN_CHARS,
    AddressUnsubscribe,
    ClickTarget,
    LinkPurpose,
    LinkSigner,
    LinkTokenRefused,
    RecordUnsubscribe,
    link_key,
)
from core.pagination import cursor_key

SECRET = "test-secret-key"
RECORD = UUID("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
WORKSPACE = UUID("0190a1b2-0000-7000-8000-000000000001")
SIGNER = LinkSigner(SECRET)
URL_SAFE = set(string.ascii_letters + string.digits + "-_")


def forge(purpose: LinkPurpose, payload: bytes, secret: str = SECRET) -> str:
    """A token written by hand from the documented format, signed with ``secret``."""
    mac = hmac.new(link_key(secret, purpose), payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(payload + mac).decode().rstrip("=")


def minted() -> dict[LinkPurpose, str]:
    return {
        LinkPurpose.OPEN: SIGNER.open_token(RECORD),
        LinkPurpose.CLICK: SIGNER.click_token(RECORD, "https://soundcloud.com/nova?ref=mail"),
        LinkPurpose.UNSUBSCRIBE: SIGNER.unsubscribe_token(RecordUnsubscribe(RECORD)),
    }


def verifier(signer: LinkSigner, purpose: LinkPurpose) -> Callable[[str], object]:
    return {
        LinkPurpose.OPEN: signer.verify_open,
        LinkPurpose.CLICK: signer.verify_click,
        LinkPurpose.UNSUBSCRIBE: signer.verify_unsubscribe,
    }[purpose]


class TestOpenTokens:
    def test_an_open_token_names_its_record(self) -> None:
        assert SIGNER.verify_open(SIGNER.open_token(RECORD)) == RECORD

    def test_an_open_token_is_short_url_safe_and_the_same_every_time(self) -> None:
        token = SIGNER.open_token(RECORD)

        assert len(token) == 44
        assert set(token) <= URL_SAFE
        assert SIGNER.open_token(RECORD) == token


class TestClickTokens:
    @pytest.mark.parametrize(
        "url",
        [
            "https://soundcloud.com/nova",
            "http://example.com/a/b?x=1&y=%20two#part",
            "HTTPS://Example.COM:8443/Path",
            "https://bücher.example/straße?q=ü",
        ],
    )
    def test_a_click_token_yields_exactly_the_url_it_was_minted_with(self, url: str) -> None:
        token = SIGNER.click_token(RECORD, url)

        assert SIGNER.verify_click(token) == ClickTarget(record_id=RECORD, url=url)
        assert set(token) <= URL_SAFE

    @pytest.mark.parametrize(
        "url",
        [
            "javascript:alert(1)",
            "JavaScript:alert(document.cookie)",
            "data:text/html,<script>alert(1)</script>",
            "mailto:nova@music.example",
            "ftp://files.example/x",
            "/relative/path",
            "//evil.example/protocol-relative",
            "https://",
            "https://evil.example/\r\nSet-Cookie: a=b",
            " https://leading.space.example/",
            "https://tab\t.example/",
            "http://[::1/broken-ipv6",
            "http://example.com:99999999/",
            "https://example.com/" + "a" * MAX_TARGET_URL_BYTES,
        ],
    )
    def test_only_http_urls_with_a_host_and_no_control_characters_are_minted(
        self, url: str
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            SIGNER.click_token(RECORD, url)

        assert [p.field for p in raised.value.problems] == ["url"]

    def test_a_validly_signed_click_token_for_a_refused_url_still_redirects_nowhere(
        self,
    ) -> None:
        token = forge(LinkPurpose.CLICK, b"\x01" + RECORD.bytes + b"javascript:alert(1)")

        with pytest.raises(LinkTokenRefused):
            SIGNER.verify_click(token)

    def test_a_click_token_with_its_url_swapped_for_another_is_refused(self) -> None:
        genuine = base64.urlsafe_b64decode(
            SIGNER.click_token(RECORD, "https://good.example/") + "="
        )
        mac = genuine[-16:]
        swapped = b"\x01" + RECORD.bytes + b"https://evil.example/"
        token = base64.urlsafe_b64encode(swapped + mac).decode().rstrip("=")

        with pytest.raises(LinkTokenRefused):
            SIGNER.verify_click(token)


class TestUnsubscribeTokens:
    def test_a_record_token_names_its_record(self) -> None:
        token = SIGNER.unsubscribe_token(RecordUnsubscribe(RECORD))

        assert SIGNER.verify_unsubscribe(token) == RecordUnsubscribe(RECORD)

    def test_an_address_token_names_the_workspace_and_the_normalized_address(self) -> None:
        token = SIGNER.unsubscribe_token(AddressUnsubscribe(WORKSPACE, "  Nova@Music.Example "))

        assert SIGNER.verify_unsubscribe(token) == AddressUnsubscribe(
            WORKSPACE, "nova@music.example"
        )
        assert set(token) <= URL_SAFE

    def test_an_address_token_for_something_that_is_not_an_address_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            SIGNER.unsubscribe_token(AddressUnsubscribe(WORKSPACE, "nova\r\n@x"))

        assert [p.field for p in raised.value.problems] == ["address"]

    def test_an_unknown_unsubscribe_kind_is_refused_even_when_signed(self) -> None:
        token = forge(LinkPurpose.UNSUBSCRIBE, b"\x01" + b"z" + RECORD.bytes)

        with pytest.raises(LinkTokenRefused):
            SIGNER.verify_unsubscribe(token)


class TestTampering:
    @pytest.mark.parametrize("purpose", list(LinkPurpose))
    def test_changing_any_one_character_of_a_token_is_refused(self, purpose: LinkPurpose) -> None:
        token = minted()[purpose]
        verify = verifier(SIGNER, purpose)
        for index, char in enumerate(token):
            for replacement in {"A", "B", "-", "_"} - {char}:
                tampered = token[:index] + replacement + token[index + 1 :]
                with pytest.raises(LinkTokenRefused):
                    verify(tampered)

    @pytest.mark.parametrize("purpose", list(LinkPurpose))
    @pytest.mark.parametrize(
        "change",
        [
            lambda t: t[:-1],
            lambda t: t[1:],
            lambda t: t + "A",
            lambda t: t + "AAAA",
            lambda t: t + "=",
            lambda t: t.replace("-", "+").replace("_", "/"),
            lambda t: t[:10] + "\u00e9" + t[11:],
            lambda t: t[:10] + " " + t[10:],
            lambda t: "",
            lambda t: t[:22],
        ],
    )
    def test_a_truncated_extended_or_respelled_token_is_refused(
        self, purpose: LinkPurpose, change: Callable[[str], str]
    ) -> None:
        token = minted()[purpose]
        changed = change(token)
        if changed == token:
            pytest.skip("this token has no character the change affects")

        with pytest.raises(LinkTokenRefused):
            verifier(SIGNER, purpose)(changed)

    def test_a_signed_token_in_an_unknown_format_version_is_refused(self) -> None:
        with pytest.raises(LinkTokenRefused):
            SIGNER.verify_open(forge(LinkPurpose.OPEN, b"\x02" + RECORD.bytes))

    def test_a_refusal_is_a_not_found_that_says_nothing_about_why(self) -> None:
        with pytest.raises(NotFound) as raised:
            SIGNER.verify_open("not-a-token")

        assert raised.value.detail == "this link is not valid"


class TestPurposes:
    @pytest.mark.parametrize("made_for", list(LinkPurpose))
    @pytest.mark.parametrize("used_as", list(LinkPurpose))
    def test_a_token_only_verifies_for_the_purpose_it_was_made_for(
        self, made_for: LinkPurpose, used_as: LinkPurpose
    ) -> None:
        token = minted()[made_for]
        verify = verifier(SIGNER, used_as)

        if made_for == used_as:
            verify(token)
        else:
            with pytest.raises(LinkTokenRefused):
                verify(token)

    def test_each_purpose_signs_with_its_own_key_and_none_is_the_cursor_key(self) -> None:
        keys = {link_key(SECRET, purpose) for purpose in LinkPurpose}

        assert len(keys) == len(LinkPurpose)
        assert cursor_key(SECRET) not in keys


class TestKeys:
    @pytest.mark.parametrize("purpose", list(LinkPurpose))
    def test_a_token_signed_with_another_secret_is_refused(self, purpose: LinkPurpose) -> None:
        token = minted()[purpose]

        with pytest.raises(LinkTokenRefused):
            verifier(LinkSigner("another-secret"), purpose)(token)

    def test_tokens_cannot_be_signed_without_a_secret(self) -> None:
        with pytest.raises(ValueError, match="secret"):
            LinkSigner("")


class TestBoundedLength:
    def test_a_validly_signed_token_over_the_bound_is_refused(self) -> None:
        url = "https://example.com/" + "a" * (MAX_TOKEN_CHARS * 3 // 4)
        token = forge(LinkPurpose.CLICK, b"\x01" + RECORD.bytes + url.encode())
        assert len(token) > MAX_TOKEN_CHARS

        with pytest.raises(LinkTokenRefused):
            SIGNER.verify_click(token)

    def test_a_huge_token_is_refused(self) -> None:
        with pytest.raises(LinkTokenRefused):
            SIGNER.verify_unsubscribe("A" * 10_000_000)

    @pytest.mark.parametrize("char", ["a", "é", "日"])
    def test_the_longest_click_target_still_makes_a_token_that_verifies(self, char: str) -> None:
        base = "https://example.com/"
        url = base + char * ((MAX_TARGET_URL_BYTES - len(base)) // len(char.encode()))
        token = SIGNER.click_token(RECORD, url)

        assert len(token) < MAX_TOKEN_CHARS
        assert SIGNER.verify_click(token).url == url
        with pytest.raises(InvalidInput):
            SIGNER.click_token(RECORD, url + "aaaa")
