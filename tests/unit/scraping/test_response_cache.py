"""The response cache's own rules: canonical keys, freshness, validators, and its bounds."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from scraping.response_cache import ResponseCache


@dataclass
class Clock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


class TestKeys:
    def test_the_client_id_is_left_out_wherever_it_is_given(self) -> None:
        a = ResponseCache.key("https://api.example/users/1?client_id=AAA")
        b = ResponseCache.key("https://api.example/users/1", {"client_id": "BBB"})
        assert a == b == "https://api.example/users/1"

    def test_parameters_are_sorted_and_host_case_ignored(self) -> None:
        a = ResponseCache.key("https://API.example/search?q=x&limit=5")
        b = ResponseCache.key("https://api.example/search", {"limit": "5", "q": "x"})
        assert a == b

    def test_different_parameters_are_different_answers(self) -> None:
        assert ResponseCache.key("https://a.example/l?offset=0") != ResponseCache.key(
            "https://a.example/l?offset=20"
        )

    def test_the_fragment_is_dropped(self) -> None:
        assert ResponseCache.key("https://a.example/p#top") == "https://a.example/p"


class TestFreshness:
    def test_an_answer_is_fresh_for_the_ttl_then_gone_without_a_validator(self) -> None:
        clock = Clock()
        cache = ResponseCache(10, clock=clock)
        cache.store("k", b"body", {})
        found = cache.lookup("k")
        assert found is not None and found.fresh and found.body == b"body"
        clock.now += 10.5
        assert cache.lookup("k") is None
        assert len(cache) == 0

    def test_a_stale_answer_with_a_validator_is_kept_to_be_asked_about(self) -> None:
        clock = Clock()
        cache = ResponseCache(10, clock=clock)
        cache.store("k", b"body", {"ETag": '"v1"', "Last-Modified": "Mon, 01 Jun 2026"})
        clock.now += 11
        found = cache.lookup("k")
        assert found is not None and not found.fresh
        assert found.conditions == {
            "If-None-Match": '"v1"',
            "If-Modified-Since": "Mon, 01 Jun 2026",
        }
        cache.revalidated("k")
        again = cache.lookup("k")
        assert again is not None and again.fresh

    def test_a_ttl_of_zero_keeps_nothing(self) -> None:
        cache = ResponseCache(0)
        assert not cache.enabled
        cache.store("k", b"body", {"ETag": '"v1"'})
        assert cache.lookup("k") is None


class TestWhatIsNeverKept:
    @pytest.mark.parametrize(
        "url", ["https://soundcloud.example/", "https://cdn.example/assets/49-abc.js"]
    )
    def test_home_pages_and_scripts_where_the_client_id_is_found(self, url: str) -> None:
        cache = ResponseCache(60)
        key = cache.key(url)
        cache.store(key, b"client_id", {"ETag": '"v"'})
        assert cache.lookup(key) is None

    def test_profile_pages_and_api_answers_are_kept(self) -> None:
        cache = ResponseCache(60)
        for url in ("https://soundcloud.example/artist", "https://api.example/users/1"):
            cache.store(cache.key(url), b"x", {})
            assert cache.lookup(cache.key(url)) is not None


class TestBounds:
    def test_the_least_recently_used_answer_goes_first(self) -> None:
        cache = ResponseCache(60, max_entries=2)
        cache.store("a", b"1", {})
        cache.store("b", b"2", {})
        assert cache.lookup("a") is not None  # now "b" is the least recently used
        cache.store("c", b"3", {})
        assert cache.lookup("b") is None
        assert cache.lookup("a") is not None
        assert cache.lookup("c") is not None

    def test_bytes_are_bounded_and_a_body_larger_than_the_bound_is_never_kept(self) -> None:
        cache = ResponseCache(60, max_bytes=10)
        cache.store("a", b"12345", {})
        cache.store("b", b"12345", {})
        cache.store("c", b"123", {})
        assert cache.lookup("a") is None
        assert cache.size_bytes == 8
        cache.store("huge", b"x" * 11, {})
        assert cache.lookup("huge") is None
        assert cache.size_bytes == 8

    def test_storing_again_replaces_and_recounts(self) -> None:
        cache = ResponseCache(60)
        cache.store("a", b"12345", {})
        cache.store("a", b"12", {})
        assert (len(cache), cache.size_bytes) == (1, 2)

    @pytest.mark.parametrize("bad", [{"ttl": -1}, {"ttl": 1, "max_entries": 0}])
    def test_nonsense_bounds_are_refused(self, bad: dict[str, float]) -> None:
        with pytest.raises(ValueError, match="ttl must be"):
            ResponseCache(**bad)  # type: ignore[arg-type]
