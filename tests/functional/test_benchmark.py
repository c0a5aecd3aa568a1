"""The reconcile benchmark's goals come from the seeded repository's shape, and a sweep meets them.

A small repository (400 tags, the benchmark's mix) is seeded and swept twice, exactly as ``make bench-reconcile``
does at 10,000 tags; the goals are checked against figures worked out by hand from the mix, then the calls made
against the goals. Fewer calls than the goal would mean work skipped, which the outcome counts catch.
"""

from collections import Counter

import pytest

from benchmarks import reconcile_10k
from benchmarks.reconcile_10k import Shape, goals

# 400 tags: 80 versions with no index (2 tags each), 60 current (3), 12 stale (3), 20 incomplete (1),
# 2 mislabelled (2).
VERSIONS = Counter(created=80, unchanged=60, updated=12, waiting=20, rejected=2)


def test_a_small_sweep_makes_no_more_calls_than_its_repositorys_shape_calls_for() -> None:
    shape, (cold, warm) = reconcile_10k.run(400)

    assert (shape.tags, shape.versions) == (400, VERSIONS)
    assert len(shape.configs_to_read) == 2 * (80 + 12 + 2)  # every image has its own config
    assert cold.goals == {
        "list_images": 1 + 1,  # 400 tags, then a relisting of 480 tags beats BatchGetImage of 3 x 92 tags
        "batch_get_image": 5,  # 3 x (80 + 60 + 12 + 2) tags (arch tags and the version tag) = 462 ids
        "get_download_url_for_layer": 188,
        "put_image": 80 + 12,
    }
    assert warm.goals == {"list_images": 1, "batch_get_image": 5,  # 3 x (152 + 2) = 462 ids
                          "get_download_url_for_layer": 0, "put_image": 0}
    for run in (cold, warm):
        assert {operation: run.calls[operation] <= goal for operation, goal in run.goals.items()} == {
            operation: True for operation in run.goals}, (run.name, dict(run.calls), run.goals)
        assert run.outcomes == run.expected_outcomes
        assert all(run.verdicts().values())
    assert cold.outcomes == {"created": 80, "updated": 12, "unchanged": 60, "waiting": 20, "rejected": 2}
    assert warm.outcomes == {"unchanged": 152, "waiting": 20, "rejected": 2}
    assert (cold.blob_downloads, warm.blob_downloads) == (188, 0)
    assert warm.tags_listed == 400 + 80  # each created version added its version tag


def test_a_few_writes_in_a_large_repository_are_verified_with_batch_get_image() -> None:
    shape = Shape(tags=5000, versions=Counter(created=10, unchanged=1600), configs_to_read=set(map(str, range(20))))
    assert goals(shape, warm=False) == {
        "list_images": 5,  # no relisting: 6 pages of 5,010 tags cost more than one BatchGetImage of 30 tags
        "batch_get_image": 49 + 1,  # 3 x 1,610 / 100, rounded up, + the verify read
        "get_download_url_for_layer": 20,
        "put_image": 10,
    }


def test_the_script_prints_a_verdict_per_call_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert reconcile_10k.main(["--tags", "200"]) == 0
    out = capsys.readouterr().out
    assert "10 of 10 goals met" in out
    assert out.count("PASS") == 10 and "MISS" not in out
