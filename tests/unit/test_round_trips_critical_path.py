"""The bench's round-trip figure: the longest chain of remote calls each starting after the previous one ended."""

from __future__ import annotations

from benchmarks.round_trips import Timeline


def timeline(*calls: tuple[str, float, float]) -> Timeline:
    recorded = Timeline()
    recorded.calls.extend(calls)
    return recorded


def test_calls_in_parallel_count_once() -> None:
    path = timeline(("Batch", 0.0, 0.025), ("URL", 0.026, 0.051), ("URL", 0.027, 0.052), ("GET", 0.052, 0.077),
                    ("GET", 0.053, 0.078), ("Put", 0.080, 0.105), ("Batch", 0.106, 0.131)).critical_path()
    assert path == ["Batch", "URL", "GET", "Put", "Batch"]


def test_a_read_issued_beside_another_is_not_a_round_trip_of_its_own() -> None:
    assert timeline(("Tags", 0.000, 0.030), ("Batch", 0.001, 0.026)).critical_path() in (["Tags"], ["Batch"])
    assert timeline(("Tags", 0.000, 0.025), ("Batch", 0.026, 0.051)).critical_path() == ["Tags", "Batch"]


def test_the_longest_chain_wins_over_the_longest_wait() -> None:
    # One slow call (100 ms) beside three quick sequential ones: three round trips, not one.
    path = timeline(("slow", 0.0, 0.100), ("a", 0.0, 0.025), ("b", 0.026, 0.051), ("c", 0.052, 0.077)).critical_path()
    assert path == ["a", "b", "c"]


def test_no_calls_no_round_trips() -> None:
    assert Timeline().critical_path() == []
