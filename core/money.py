"""Money as integers in minor units (cents, pence, yen), never floats."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from core.errors import InvalidInput

# ISO 4217 minor-unit exponents that differ from the usual 2.
_EXPONENTS: dict[str, int] = {
    "BHD": 3, "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0,
    "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3, "UGX": 0,
    "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}  # fmt: skip
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def normalize_currency(code: str) -> str:
    """Return the upper-case ISO 4217 code, or raise naming the bad value."""
    upper = code.strip().upper()
    if not _CURRENCY.match(upper):
        raise InvalidInput(f"currency must be a three-letter ISO 4217 code, got {code!r}")
    return upper


def minor_unit_exponent(currency: str) -> int:
    return _EXPONENTS.get(normalize_currency(currency), 2)


@dataclass(frozen=True, order=True)
class Money:
    """An amount of one currency, held in its minor unit."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise InvalidInput(f"amount_minor must be an integer, got {self.amount_minor!r}")
        object.__setattr__(self, "currency", normalize_currency(self.currency))

    @classmethod
    def parse(cls, amount: str | int | Decimal, currency: str) -> Money:
        """Build from a major-unit amount such as ``"12.50"``; refuse sub-minor precision."""
        exponent = minor_unit_exponent(currency)
        try:
            value = Decimal(str(amount).strip())
        except InvalidOperation:
            raise InvalidInput(f"amount {amount!r} is not a number") from None
        if not value.is_finite():
            raise InvalidInput(f"amount {amount!r} is not a finite number")
        scaled = value.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise InvalidInput(
                f"amount {amount!r} has more than {exponent} decimal places for {currency.upper()}"
            )
        return cls(int(scaled), currency)

    @property
    def exponent(self) -> int:
        return minor_unit_exponent(self.currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-self.exponent)

    def format(self) -> str:
        """``"1234.50 EUR"``: exact, locale-free."""
        return f"{self.to_decimal():.{self.exponent}f} {self.currency}"

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidInput(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)
