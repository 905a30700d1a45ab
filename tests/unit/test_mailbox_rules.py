"""A mailbox's limits, host names, and the addresses the service refuses to connect to."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.mailbox_rules import SendingLimits, check_host, refusal


class TestRampUp:
    def test_a_new_mailbox_starts_at_the_ramp_start_and_grows_daily_to_the_cap(self) -> None:
        limits = SendingLimits(daily_cap=50, ramp_start=40, ramp_increment=2)
        assert [limits.daily_cap_on(day) for day in (0, 1, 4, 5, 30)] == [40, 42, 48, 50, 50]

    def test_a_ramp_start_above_the_cap_is_held_to_the_cap(self) -> None:
        assert SendingLimits(daily_cap=10, ramp_start=40).daily_cap_on(0) == 10


class TestLimitRules:
    @pytest.mark.parametrize(
        ("values", "field"),
        [
            ({"per_minute": 0}, "per_minute"),
            ({"per_minute": 60_001}, "per_minute"),
            ({"daily_cap": 1_000_001}, "daily_cap"),
            ({"ramp_start": 0}, "ramp_start"),
            ({"ramp_increment": -1}, "ramp_increment"),
            ({"gap_min_seconds": 3_601, "gap_max_seconds": 3_601}, "gap_min_seconds"),
            ({"gap_min_seconds": 120, "gap_max_seconds": 60}, "gap_max_seconds"),
        ],
    )
    def test_a_limit_out_of_bounds_names_its_field(
        self, values: dict[str, int], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as refused:
            SendingLimits(**values)
        assert refused.value.problems[0].field == field


class TestHostNames:
    @pytest.mark.parametrize(
        ("given", "kept"),
        [("SMTP.Example.COM.", "smtp.example.com"), (" 127.0.0.1 ", "127.0.0.1"), ("::1", "::1")],
    )
    def test_a_host_is_kept_trimmed_and_lower_case(self, given: str, kept: str) -> None:
        assert check_host(given) == kept

    @pytest.mark.parametrize(
        "given", ["", "smtp://mail.example.com", "mail.example.com:25", "a b", "-bad.example"]
    )
    def test_what_is_not_a_host_name_is_refused(self, given: str) -> None:
        with pytest.raises(ValueError, match="must be"):
            check_host(given)


class TestRefusedAddresses:
    @pytest.mark.parametrize("address", ["169.254.169.254", "fe80::1", "fd00:ec2::254"])
    def test_link_local_and_metadata_addresses_are_always_refused(self, address: str) -> None:
        assert refusal(address, allow_private=True) is not None

    @pytest.mark.parametrize("address", ["0.0.0.0", "224.0.0.1", "240.0.0.1"])
    def test_addresses_that_name_no_single_host_are_refused(self, address: str) -> None:
        assert refusal(address, allow_private=True) is not None

    @pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.1.2.3", "192.168.1.20"])
    def test_loopback_and_private_addresses_follow_the_setting(self, address: str) -> None:
        assert refusal(address, allow_private=True) is None
        assert refusal(address, allow_private=False) is not None

    def test_an_ipv4_mapped_ipv6_address_is_judged_as_its_ipv4_address(self) -> None:
        assert refusal("::ffff:169.254.169.254", allow_private=True) is not None

    def test_a_public_address_is_allowed(self) -> None:
        assert refusal("93.184.216.34", allow_private=False) is None
