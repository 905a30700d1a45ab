"""Secrets sealed at rest open only with the same service secret and purpose, intact."""

from __future__ import annotations

import base64

import pytest

from core.secret_box import MAILBOX_PASSWORD, SecretBox, SecretUnreadable

SECRET = "service-secret-for-tests-long-enough"


class TestSealing:
    def test_a_sealed_secret_opens_to_the_same_text(self) -> None:
        box = SecretBox(SECRET, MAILBOX_PASSWORD)
        assert box.open(box.seal("p@ss wörd")) == "p@ss wörd"

    def test_the_token_does_not_contain_the_secret(self) -> None:
        box = SecretBox(SECRET, MAILBOX_PASSWORD)
        token = box.seal("hunter2-hunter2")
        assert "hunter2" not in token
        assert b"hunter2" not in base64.urlsafe_b64decode(token)

    def test_sealing_twice_gives_different_tokens(self) -> None:
        box = SecretBox(SECRET, MAILBOX_PASSWORD)
        assert box.seal("same") != box.seal("same")


class TestRefusal:
    def test_a_changed_byte_is_refused(self) -> None:
        box = SecretBox(SECRET, MAILBOX_PASSWORD)
        raw = bytearray(base64.urlsafe_b64decode(box.seal("secret")))
        raw[-40] ^= 0x01
        with pytest.raises(SecretUnreadable, match="CM_SECRET_KEY"):
            box.open(base64.urlsafe_b64encode(bytes(raw)).decode())

    def test_a_token_sealed_under_another_service_secret_is_refused(self) -> None:
        token = SecretBox("another-service-secret", MAILBOX_PASSWORD).seal("secret")
        with pytest.raises(SecretUnreadable):
            SecretBox(SECRET, MAILBOX_PASSWORD).open(token)

    def test_a_token_sealed_for_another_purpose_is_refused(self) -> None:
        token = SecretBox(SECRET, "webhook-secret").seal("secret")
        with pytest.raises(SecretUnreadable):
            SecretBox(SECRET, MAILBOX_PASSWORD).open(token)

    def test_text_that_is_no_token_is_refused_without_echoing_it(self) -> None:
        with pytest.raises(SecretUnreadable) as refused:
            SecretBox(SECRET, MAILBOX_PASSWORD).open("not-a-token-ü")
        assert "not-a-token" not in str(refused.value)

    def test_the_refusal_is_a_conflict_the_user_can_resolve(self) -> None:
        with pytest.raises(SecretUnreadable) as refused:
            SecretBox(SECRET, MAILBOX_PASSWORD).open("garbage")
        assert refused.value.status == 409
        assert "set it again" in refused.value.detail

    def test_an_empty_service_secret_is_not_a_key(self) -> None:
        with pytest.raises(ValueError, match="non-empty"):
            SecretBox("", MAILBOX_PASSWORD)
