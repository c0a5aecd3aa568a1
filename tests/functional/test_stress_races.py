"""The race experiment runs the race it exists for: with the verify read switched off (a test-only seam in
devkit/stress.py) some trials end stale, because ECR keeps a replaced child and accepts the stale index; with it,
none does. If the first half ever stops failing, the experiment no longer proves anything about the verify loop."""

from devkit import stress
from devkit.fake_ecr import FakeEcr


def test_without_the_verify_read_races_go_stale_and_with_it_none_does() -> None:
    with stress.no_retry_sleep(), FakeEcr(server=True) as ecr:
        ecr.create_repository(stress.REPOSITORY)
        unverified = stress.run_races(ecr, trials=20, seed=3, verify=False)
        verified = stress.run_races(ecr, trials=20, seed=3)
    assert unverified.trials == verified.trials == 20
    assert unverified.stale >= 1
    assert verified.stale == 0
    assert verified.dead_lettered == 0
