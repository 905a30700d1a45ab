"""Settings, cursors, ids, emails, passwords and roles."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from core.emails import normalize_email
from core.enums import Role
from core.errors import ConfigurationError, InvalidInput
from core.ids import new_id
from core.pagination import Cursor, check_page_size, cursor_key
from core.passwords import hash_password, needs_rehash, verify_password
from core.settings import load_settings


class TestSettings:
    def test_defaults_need_no_configuration(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.chdir(tmp_path)
        settings = load_settings(data_dir=tmp_path)
        assert (
            settings.uses_embedded_postgres
            and settings.uses_embedded_redis
            and not settings.uses_s3
        )
        assert (settings.host, settings.port, settings.postgres_data_dir) == (
            "127.0.0.1",
            8000,
            tmp_path / "postgres",
        )

    def test_environment_variables_use_the_cm_prefix(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("CM_PORT", "9123")
        monkeypatch.setenv("CM_REDIS_URL", "redis://cache.internal:6379/2")
        settings = load_settings(data_dir=tmp_path)
        assert (settings.port, settings.redis_url, settings.uses_embedded_redis) == (
            9123,
            "redis://cache.internal:6379/2",
            False,
        )

    @pytest.mark.parametrize(
        ("variable", "value"),
        [
            ("CM_PORT", "0"),
            ("CM_DATABASE_URL", "sqlite:///x.db"),
            ("CM_S3_ENDPOINT_URL", "ftp://x"),
            ("CM_SERVE_MAX_ONGOING_REQUESTS", "many"),
        ],
    )
    def test_a_bad_value_names_its_variable(
        self, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
    ) -> None:
        monkeypatch.setenv(variable, value)
        with pytest.raises(ConfigurationError) as error:
            load_settings()
        assert error.value.setting == variable
        assert repr(value) in str(error.value)


class TestCursor:
    KEY = cursor_key("a-secret-for-the-cursor-tests")
    VALUES = (
        datetime(2026, 11, 26, 4, 30, tzinfo=UTC),
        date(2026, 11, 26),
        "Solar",
        1500,
        0.75,
        uuid.UUID("01930000-0000-7000-8000-000000000000"),
    )

    @pytest.mark.parametrize("value", VALUES)
    def test_round_trip_keeps_types(self, value: object) -> None:
        row_id = uuid.uuid4()
        token = Cursor("name", value, row_id).encode(self.KEY)
        decoded = Cursor.decode(token, sort="name", value_type=type(value), key=self.KEY)
        assert (decoded.value, decoded.id) == (value, row_id)

    def test_a_token_signed_with_another_key_is_refused(self) -> None:
        token = Cursor("name", "Solar", uuid.uuid4()).encode(cursor_key("another-secret"))
        with pytest.raises(InvalidInput, match="not one this service made") as error:
            Cursor.decode(token, sort="name", value_type=str, key=self.KEY)
        assert error.value.problems[0].field == "cursor"

    def test_an_unsigned_or_edited_token_is_refused(self) -> None:
        row_id = uuid.uuid4()
        unsigned = Cursor("name", "Solar", row_id).encode()
        signed = Cursor("name", "Solar", row_id).encode(self.KEY)
        forged = Cursor("name", "Zed", row_id).encode() + signed[signed.index(".") :]
        for token in (unsigned, forged, signed + "x", signed[:-2]):
            with pytest.raises(InvalidInput) as error:
                Cursor.decode(token, sort="name", value_type=str, key=self.KEY)
            assert error.value.problems[0].field == "cursor"

    @pytest.mark.parametrize(
        ("value", "value_type"),
        [
            ("2026-11-26", datetime),
            (datetime(2026, 11, 26, 4, 30), datetime),
            (datetime(2026, 11, 26, 4, 30, tzinfo=UTC), date),
            (1500, str),
            ("1500", int),
            (2**63, int),
            (True, int),
            ("Solar", uuid.UUID),
            (date(2026, 11, 26), int),
        ],
    )
    def test_a_value_of_another_type_than_the_column_is_refused(
        self, value: object, value_type: type
    ) -> None:
        # Made by hand without the type tag's checks, as a client would forge one.
        kind = {bool: "i", int: "i", str: "s", date: "d"}.get(type(value), "t")
        shown = value.isoformat() if isinstance(value, date) else value
        raw = json.dumps(["name", kind, shown, str(uuid.uuid4())]).encode()
        token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        with pytest.raises(InvalidInput) as error:
            Cursor.decode(token, sort="name", value_type=value_type)
        assert error.value.problems[0].field == "cursor"

    def test_page_size_bounds(self) -> None:
        assert check_page_size(200) == 200
        with pytest.raises(InvalidInput):
            check_page_size(201)


class TestIds:
    def test_ids_are_version_7_and_strictly_increasing(self) -> None:
        ids = [new_id() for _ in range(5000)]
        assert all(i.version == 7 for i in ids)
        assert ids == sorted(ids) and len(set(ids)) == len(ids)


class TestEmails:
    def test_addresses_are_trimmed_and_lower_cased(self) -> None:
        assert normalize_email("  Mia@Label.EXAMPLE ") == "mia@label.example"

    @pytest.mark.parametrize(
        "value", ["", "mia", "mia@", "@label.example", "mia@label", "a b@c.example", "a@@b.example"]
    )
    def test_non_addresses_name_the_field(self, value: str) -> None:
        with pytest.raises(InvalidInput) as error:
            normalize_email(value, field="to_email")
        assert error.value.problems[0].field == "to_email"


class TestPasswords:
    def test_hashes_are_argon2id_and_verify(self) -> None:
        hashed = hash_password("correct horse battery")
        assert hashed.startswith("$argon2id$")
        assert verify_password(hashed, "correct horse battery")
        assert not verify_password(hashed, "wrong horse battery")
        assert not verify_password("not-a-hash", "x")
        assert not needs_rehash(hashed)

    def test_too_short_is_refused(self) -> None:
        with pytest.raises(InvalidInput, match="8 to 256"):
            hash_password("short")


class TestRoles:
    def test_role_powers(self) -> None:
        assert [r for r in Role if r.can_write] == [Role.OWNER, Role.ADMIN, Role.EDITOR]
        assert [r for r in Role if r.can_manage_members] == [Role.OWNER, Role.ADMIN]
        assert Role.ADMIN.at_least(Role.EDITOR) and not Role.VIEWER.at_least(Role.EDITOR)
