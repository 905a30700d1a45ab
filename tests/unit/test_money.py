from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import InvalidInput
from core.money import (
    CURRENCY_EXPONENTS,
    Money,
    check_currency_change,
    minor_unit_exponent,
    normalize_currency,
)


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


class TestCurrencies:
    @pytest.mark.parametrize("code", ["eur", " jpy ", "XOF", "XCD", "chf"])
    def test_currencies_money_is_held_in_are_accepted(self, code: str) -> None:
        assert normalize_currency(code) == code.strip().upper()

    @pytest.mark.parametrize(
        "code",
        ["ZZZ", "XXX", "XTS", "XAU", "XAG", "XPT", "XPD", "XDR", "XSU", "XUA", "CLF", "USN", "UYI"],
    )
    def test_codes_that_are_not_money_are_refused_naming_the_field(self, code: str) -> None:
        with pytest.raises(InvalidInput, match=code) as refused:
            normalize_currency(code, field="budget_currency")
        assert [problem.field for problem in refused.value.problems] == ["budget_currency"]

    def test_every_listed_currency_has_a_usual_exponent(self) -> None:
        assert set(CURRENCY_EXPONENTS.values()) == {0, 2, 3}
        assert all(len(code) == 3 and code.isupper() for code in CURRENCY_EXPONENTS)


class TestCurrencyChange:
    def check(self, changes: dict[str, object], *, amount_minor: int = 500) -> None:
        check_currency_change(
            currency="EUR",
            amount_minor=amount_minor,
            changes=changes,
            amount_fields=("amount_minor", "amount"),
        )

    def test_another_currency_without_the_amount_is_refused_naming_the_amount(self) -> None:
        with pytest.raises(InvalidInput, match="from EUR to JPY") as refused:
            self.check({"currency": "jpy"})
        assert [problem.field for problem in refused.value.problems] == ["amount_minor", "amount"]

    @pytest.mark.parametrize(
        "changes",
        [
            {"currency": "JPY", "amount_minor": 800},
            {"currency": "eur"},
            {"category": "ads"},
            {"amount_minor": 700},
        ],
    )
    def test_a_restated_amount_or_the_same_currency_passes(
        self, changes: dict[str, object]
    ) -> None:
        self.check(changes)

    def test_nothing_is_worth_the_same_in_any_currency(self) -> None:
        self.check({"currency": "JPY"}, amount_minor=0)


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
