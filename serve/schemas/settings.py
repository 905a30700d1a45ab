"""The caller's own settings in a workspace: a JSON object under each key."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field, field_validator

KEY_PATTERN = r"^[a-z0-9_.-]{1,100}$"
MAX_VALUE_BYTES = 16 * 1024


class SettingWrite(BaseModel):
    value: dict[str, Any] = Field(
        description="Any JSON object, up to 16 KiB.", examples=[{"mode": "dark"}]
    )

    @field_validator("value")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, separators=(",", ":"))) > MAX_VALUE_BYTES:
            raise ValueError(f"must be at most {MAX_VALUE_BYTES} bytes of JSON")
        return value


class SettingRead(BaseModel):
    key: str
    value: dict[str, Any]
