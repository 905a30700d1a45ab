"""Transaction bodies, money summaries and CSV import results.

Amounts are integers in the currency's minor unit (``amount_minor``). A decimal ``amount`` in
major units is accepted as a convenience where it cannot be misread: a plain digit string
(``"12.50"``; no sign, exponent, thousands separator or decimal comma), never a JSON number,
never together with ``amount_minor``, and with no more decimals than the currency has.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ValidationError,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from core.enums import TransactionType
from core.errors import InvalidInput
from core.money import Money, normalize_currency
from serve.schemas.common import Day, ReadModel

MAX_AMOUNT_MINOR = 10**15
CURRENCY_PATTERN = r"^[A-Za-z]{3}$"
DECIMAL_AMOUNT_PATTERN = r"^[0-9]{1,16}(\.[0-9]{1,4})?$"
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_INTEGER_CELL = re.compile(r"^[+-]?[0-9]{1,20}$")

SummaryGrouping = Literal["campaign", "category", "month"]

# Strict: a JSON true or "1" is a client's mistake, not an amount (lax ints would take both).
_AmountMinor = Field(
    default=None,
    strict=True,
    gt=0,
    le=MAX_AMOUNT_MINOR,
    description="Amount in the currency's minor unit, a JSON integer.",
)
_Amount = Field(
    default=None,
    pattern=DECIMAL_AMOUNT_PATTERN,
    description="Amount in major units as a string (``'12.50'``), instead of amount_minor.",
    examples=["12.50"],
)


def _currency(code: str) -> str:
    try:
        return normalize_currency(code)
    except InvalidInput as exc:
        raise ValueError(exc.detail) from None


# Every currency field of the API: a code money is held in (``core.money``), in any case.
CurrencyCode = Annotated[
    str,
    Field(
        pattern=CURRENCY_PATTERN,
        description="ISO 4217 code of a currency (not XXX, XTS, metals or funds codes).",
        examples=["EUR"],
    ),
    AfterValidator(_currency),
]


def major_units(amount_minor: int, currency: str) -> str:
    """``1250, "EUR"`` -> ``"12.50"``; ``1250, "JPY"`` -> ``"1250"``: exact, no float."""
    money = Money(amount_minor, currency)
    return f"{money.to_decimal():.{money.exponent}f}"


def _invalid(model: str, problems: list[tuple[str, str]]) -> ValidationError:
    """A cross-field rule's failure reported on the fields it concerns, so the 422 names them."""
    return ValidationError.from_exception_data(
        model,
        [
            InitErrorDetails(
                type=PydanticCustomError("value_error", message), loc=(field,), input=None
            )
            for field, message in problems
        ],
    )


def _minor_from_amount(model: str, amount: str, currency: str) -> int:
    try:
        minor = Money.parse(amount, currency).amount_minor
    except InvalidInput as exc:
        raise _invalid(model, [("amount", exc.detail)]) from None
    if not 0 < minor <= MAX_AMOUNT_MINOR:
        raise _invalid(
            model, [("amount", "amount must be greater than 0 and at most 10^15 minor units")]
        )
    return minor


class TransactionCreate(BaseModel):
    type: TransactionType
    amount_minor: int | None = _AmountMinor
    amount: str | None = _Amount
    currency: CurrencyCode
    category: str = Field(default="uncategorized", min_length=1, max_length=100)
    description: str = Field(default="", max_length=10_000)
    occurred_on: Day
    campaign_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _one_amount(self) -> Self:
        name = type(self).__name__
        if self.amount is not None:
            if self.amount_minor is not None:
                raise _invalid(name, [("amount", "give amount or amount_minor, not both")])
            self.amount_minor = _minor_from_amount(name, self.amount, self.currency)
        if self.amount_minor is None:
            raise _invalid(
                name, [("amount_minor", "Field required (or give amount in major units)")]
            )
        return self

    def columns(self) -> dict[str, Any]:
        """The columns to store (``amount`` resolved into ``amount_minor``)."""
        return self.model_dump(exclude={"amount"})


class TransactionImportRow(TransactionCreate):
    """One CSV row; empty cells count as absent."""

    @field_validator("amount_minor", mode="before")
    @classmethod
    def _digits_are_minor_units(cls, value: object) -> object:
        # Every CSV cell is text; the JSON API's strict integer applies once it is read as one.
        if isinstance(value, str) and _INTEGER_CELL.match(value):
            return int(value)
        return value

    @field_validator("occurred_on", mode="before")
    @classmethod
    def _iso_date_only(cls, value: object) -> object:
        if isinstance(value, str) and not _ISO_DATE.match(value):
            raise ValueError("must be a date as YYYY-MM-DD")
        return value


_NOT_NULL = ("type", "amount_minor", "currency", "category", "description", "occurred_on")


class TransactionUpdate(BaseModel):
    """The fields to change; ``campaign_id: null`` unlinks the campaign. ``amount`` needs
    ``currency`` in the same body, so it is never read in a currency the caller did not name."""

    type: TransactionType | None = None
    amount_minor: int | None = _AmountMinor
    amount: str | None = _Amount
    currency: CurrencyCode | None = None
    category: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=10_000)
    occurred_on: Day | None = None
    campaign_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _rules(self) -> Self:
        name = type(self).__name__
        nulls = [
            (field, "may not be null")
            for field in _NOT_NULL
            if field in self.model_fields_set and getattr(self, field) is None
        ]
        if nulls:
            raise _invalid(name, nulls)
        if self.amount is not None:
            if "amount_minor" in self.model_fields_set:
                raise _invalid(name, [("amount", "give amount or amount_minor, not both")])
            if self.currency is None:
                raise _invalid(name, [("currency", "required when amount is given")])
            self.amount_minor = _minor_from_amount(name, self.amount, self.currency)
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"amount"})


class DateRange(BaseModel):
    """Query parameters bounding ``occurred_on``, both days included."""

    occurred_from: Day | None = Field(default=None, description="On or after this day.")
    occurred_to: Day | None = Field(default=None, description="On or before this day.")

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.occurred_from and self.occurred_to and self.occurred_to < self.occurred_from:
            raise _invalid(
                type(self).__name__, [("occurred_to", "must not be before occurred_from")]
            )
        return self


class TransactionFilters(DateRange):
    """Query parameters that pick transactions (for lists and exports)."""

    type: TransactionType | None = None
    campaign_id: uuid.UUID | None = None
    category: str | None = Field(default=None, min_length=1, max_length=100)


class TransactionRead(ReadModel):
    id: uuid.UUID
    type: TransactionType
    amount_minor: int
    currency: str
    category: str
    description: str
    occurred_on: date
    campaign_id: uuid.UUID | None
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime

    @computed_field(description="The amount in major units, exact (``'12.50'``).")  # type: ignore[prop-decorator]
    @property
    def amount(self) -> str:
        return major_units(self.amount_minor, self.currency)


class MoneyTotals(ReadModel):
    """Sums of one currency, in its minor unit; currencies are never added together."""

    currency: str
    income_minor: int
    expense_minor: int
    net_minor: int = Field(description="income_minor - expense_minor")
    count: int = Field(description="Number of transactions.")


class SummaryGroup(MoneyTotals):
    key: str | None = Field(
        description="Campaign id (null: no campaign), category, or month as YYYY-MM."
    )


class TransactionSummary(BaseModel):
    group_by: SummaryGrouping
    occurred_from: date | None
    occurred_to: date | None
    groups: list[SummaryGroup] = Field(description="One row per group and currency.")
    totals: list[MoneyTotals] = Field(description="One row per currency, over all groups.")


class RowError(BaseModel):
    row: int = Field(description="Row number in the file as a spreadsheet shows it (header: 1).")
    field: str
    message: str


class TransactionImportResult(BaseModel):
    created: int
    skipped: int = Field(description="Rows not imported because of the errors listed.")
    errors: list[RowError] = Field(description="Each bad field of each skipped row (at most 1000).")
