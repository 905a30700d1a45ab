"""Money as integers in minor units (cents, pence, yen), never floats."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from core.errors import FieldProblem, InvalidInput

_CURRENCY = re.compile(r"^[A-Z]{3}$")

# The ISO 4217 currencies (list of 2025) that money can be held in, with the exponent of each
# one's minor unit. Left out on purpose: codes that are not money one pays with (XXX "no
# currency", XTS "testing"), precious metals (XAU, XAG, XPT, XPD), units of account and bond
# market units (XDR, XSU, XUA, XBA-XBD), and funds codes that only index another currency
# (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW): an amount in one of them is a mistake here.
CURRENCY_EXPONENTS: Mapping[str, int] = MappingProxyType({
    "AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2, "AUD": 2, "AWG": 2,
    "AZN": 2, "BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0, "BMD": 2, "BND": 2,
    "BOB": 2, "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2, "BZD": 2, "CAD": 2, "CDF": 2,
    "CHF": 2, "CLP": 0, "CNY": 2, "COP": 2, "CRC": 2, "CUP": 2, "CVE": 2, "CZK": 2, "DJF": 0,
    "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2, "ERN": 2, "ETB": 2, "EUR": 2, "FJD": 2, "FKP": 2,
    "GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2, "GNF": 0, "GTQ": 2, "GYD": 2, "HKD": 2,
    "HNL": 2, "HTG": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "IQD": 3, "IRR": 2, "ISK": 0,
    "JMD": 2, "JOD": 3, "JPY": 0, "KES": 2, "KGS": 2, "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0,
    "KWD": 3, "KYD": 2, "KZT": 2, "LAK": 2, "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2, "LYD": 3,
    "MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2,
    "MVR": 2, "MWK": 2, "MXN": 2, "MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2,
    "NPR": 2, "NZD": 2, "OMR": 3, "PAB": 2, "PEN": 2, "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2,
    "PYG": 0, "QAR": 2, "RON": 2, "RSD": 2, "RUB": 2, "RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2,
    "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2, "SLE": 2, "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2,
    "SVC": 2, "SYP": 2, "SZL": 2, "THB": 2, "TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2,
    "TTD": 2, "TWD": 2, "TZS": 2, "UAH": 2, "UGX": 0, "USD": 2, "UYU": 2, "UZS": 2, "VED": 2,
    "VES": 2, "VND": 0, "VUV": 0, "WST": 2, "XAF": 0, "XCD": 2, "XCG": 2, "XOF": 0, "XPF": 0,
    "YER": 2, "ZAR": 2, "ZMW": 2, "ZWG": 2,
})  # fmt: skip


def normalize_currency(code: str, *, field: str = "currency") -> str:
    """Return the upper-case code of a currency money can be held in, or raise naming ``field``.

    Raises:
        InvalidInput: the code is not three letters, or not one of ``CURRENCY_EXPONENTS``.
    """
    upper = code.strip().upper()
    if not _CURRENCY.match(upper):
        message = f"currency must be a three-letter ISO 4217 code, got {code!r}"
        raise InvalidInput(message, [FieldProblem(field, message)])
    if upper not in CURRENCY_EXPONENTS:
        message = f"{upper} is not an ISO 4217 currency that amounts can be held in"
        raise InvalidInput(message, [FieldProblem(field, message)])
    return upper


def minor_unit_exponent(currency: str) -> int:
    return CURRENCY_EXPONENTS[normalize_currency(currency)]


def check_currency_change(
    *,
    currency: str,
    amount_minor: int,
    changes: Mapping[str, Any],
    amount_fields: Sequence[str],
) -> None:
    """Refuse a change of currency that does not restate the amount.

    Minor units mean nothing without their currency: kept as they are, 5.00 EUR (500 cents)
    would become 500 JPY. So a change to another currency must give the amount in it (the first
    of ``amount_fields`` is the changes' key for it), unless the amount is 0, which is worth the
    same in any currency. Naming the current currency again is no change.

    Raises:
        InvalidInput: naming each of ``amount_fields``.
    """
    wanted = changes.get("currency")
    if wanted is None or amount_fields[0] in changes or amount_minor == 0:
        return
    target = normalize_currency(wanted)
    if target == currency:
        return
    message = f"changing the currency from {currency} to {target} needs the amount in {target}"
    raise InvalidInput(message, [FieldProblem(field, message) for field in amount_fields])


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
