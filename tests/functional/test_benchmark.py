"""The reconcile benchmark must keep running (its figures are printed, never asserted: moto is not ECR)."""

import pytest

from benchmarks import reconcile_10k


def test_benchmark_runs_on_a_small_repository(capsys: pytest.CaptureFixture[str]) -> None:
    assert reconcile_10k.main(["--tags", "400"]) == 0
    out = capsys.readouterr().out
    assert "Seeded golang-bench: 400 tags" in out
    assert "first reconcile (cold: nothing cached) of 400 tags" in out
    for operation in ("list_images", "batch_get_image", "get_download_url_for_layer", "put_image"):
        assert operation in out
