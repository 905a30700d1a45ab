from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import InvalidInput
from core.money import Money, minor_unit_exponent


class TestParsing:
    @pytest.mark.parametrize(
        ("amount", "currency", "minor"),
        [
            ("12.50", "EUR", 1250),
            ("0.01", "usd", 1),
            ("1500", "JPY", 1500),
            ("1.234", "KWD", 1234),
            (Decimal("-3.10"), "GBP", -310),
            (7, "EUR", 700),
            ("  2.5 ", "EUR", 250),
        ],
    )
    def test_major_units_become_exact_minor_units(
        self, amount: object, currency: str, minor: int
    ) -> None:
        assert Money.parse(amount, currency).amount_minor == minor  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("amount", "currency"),
        [("0.001", "EUR"), ("1.5", "JPY"), ("abc", "EUR"), ("NaN", "EUR"), ("Infinity", "EUR")],
    )
    def test_amounts_that_cannot_be_exact_are_refused(self, amount: str, currency: str) -> None:
        with pytest.raises(InvalidInput):
            Money.parse(amount, currency)

    @pytest.mark.parametrize("currency", ["EURO", "E1R", "", "€"])
    def test_a_currency_must_be_three_letters(self, currency: str) -> None:
        with pytest.raises(InvalidInput, match="ISO 4217"):
            Money(100, currency)

    def test_floats_are_not_accepted_as_minor_units(self) -> None:
        with pytest.raises(InvalidInput):
            Money(12.5, "EUR")  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            Money(True, "EUR")


class TestArithmetic:
    def test_same_currency_adds_and_subtracts_exactly(self) -> None:
        total = Money.parse("0.10", "EUR") + Money.parse("0.20", "EUR")
        assert total == Money(30, "EUR") and (total - Money(50, "EUR")).amount_minor == -20

    def test_mixing_currencies_is_refused(self) -> None:
        with pytest.raises(InvalidInput, match="cannot combine EUR with USD"):
            _ = Money(1, "EUR") + Money(1, "USD")

    def test_format_uses_the_currency_exponent(self) -> None:
        assert Money(123450, "EUR").format() == "1234.50 EUR"
        assert Money(1500, "JPY").format() == "1500 JPY"
        assert (-Money(5, "EUR")).format() == "-0.05 EUR"
        assert minor_unit_exponent("kwd") == 3
