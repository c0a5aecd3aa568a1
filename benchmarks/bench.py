"""`make bench`: what one event costs — ECR calls, cold import, memory, CPU — and what the deployment weighs.

A benchmark, not a test: it prints figures and the issue's goals next to them (PASS / MISS) and exits 0 either way.

1. ECR calls per scenario: the real handler (``handler.configure(Assembler(...))``, as in tests/functional) against
   the in-memory ECR (devkit.fake_ecr: moto, corrected), which records every ECR call the handler makes.
2. Cold import of the handler module as a ratio to a bare ``import boto3`` measured in the same run: CPU time of
   the import in fresh processes, median of several alternating runs, with LAMBDA_TASK_ROOT set as Lambda sets it;
   on the .venv's Python and on the built artefacts as deployed (bare python3.13 -I -S with the built function, the
   built layer and a stand-in for the runtime's boto3), each with tracing disabled and with X-Ray active.
3. Peak RSS of one full assembly and CPU time per event: the built artefacts on a bare python3.13, in a process of
   their own that reaches the in-memory ECR over HTTP on 127.0.0.1 (a moto server run by this process; config blobs
   served on 127.0.0.1 too), through the handler's own composition root. moto's memory and CPU are not counted.
4. Sizes of the built function and layer zips (deflate), as `sam build` left them in .aws-sam/build.
5. Cold start to the first outcome, as deployed, against a floor measured the same way in the same run: (a) the
   boto3 floor (one read), (b) the same-work floor (the function's external work and nothing else;
   benchmarks/cold_start.py).
6. Round trips on the critical path with a fixed latency per remote call (benchmarks/round_trips.py).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.common import ARCH_SETS, EVENTS, IMAGES, ROOT, VERDICTS, judge, moto_server, push_event, seed_version
from devkit.built import (
    LAMBDA_CONTEXT_SOURCE,
    LAMBDA_LIKE_ENVIRONMENT,
    RUNTIME_STANDIN,
    BuiltArtifacts,
    bare_python_command,
    find_python313,
    lambda_environment,
)

if TYPE_CHECKING:
    from devkit.fake_ecr import FakeEcr

FUNCTION_CODE = ROOT / "functions" / "assembler"

MB = 1_000_000  # goals are judged in decimal megabytes (the stricter reading); MiB are printed alongside
GOAL_IMPORT_RATIO = 1.3
GOAL_PEAK_RSS = 80 * MB
GOAL_ZIP_TOTAL = 5 * MB

API_NAMES = {"batch_get_image": "BatchGetImage", "get_download_url_for_layer": "GetDownloadUrlForLayer",
             "put_image": "PutImage", "list_images": "ListImages", "list_tags_for_resource": "ListTagsForResource"}

# What a Lambda invocation of this template sees, minus AWS; used for the in-process part too.
QUIET_POWERTOOLS = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true",
                    "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "ecr-multiarch"}


# ------------------------------------------------------------------------------------------ 1. ECR calls


@dataclass(frozen=True)
class CallCount:
    scenario: str
    outcome: str
    operations: tuple[str, ...]

    def count(self, api: str) -> int:
        return sum(1 for operation in self.operations if API_NAMES.get(operation, operation) == api)


def measure_calls(ecr: FakeEcr, architectures: int) -> list[CallCount]:
    import boto3

    from devkit.lambda_context import FakeLambdaContext
    from ecr_multiarch import handler
    from ecr_multiarch.adapters.ecr import BOTOCORE_CONFIG, EcrRegistry
    from ecr_multiarch.adapters.http_blobs import HttpBlobReader
    from ecr_multiarch.assembler import Assembler
    from ecr_multiarch.settings import Settings

    suffixes = ARCH_SETS[architectures]
    repository = f"bench-{architectures}"
    settings = Settings(required_architectures=suffixes)
    ecr.create_repository(repository)
    client = boto3.client("ecr", config=BOTOCORE_CONFIG)

    def container() -> Assembler:
        """A fresh Lambda container: a new assembler, so an empty platform cache."""
        # As the handler's composition root builds it: the repository's policy comes from its ECR tags.
        registry = EcrRegistry(client, account_id="123456789012")
        return Assembler(registry, HttpBlobReader(), settings, repository_tags=registry)

    results: list[CallCount] = []

    def invoke(scenario: str, assembler: Assembler, event: dict[str, Any]) -> None:
        handler.configure(assembler)
        ecr.calls.clear()
        try:
            result = handler.lambda_handler(event, FakeLambdaContext())
        finally:
            handler.configure(None)
        results.append(CallCount(scenario, str(result.get("outcome")), tuple(ecr.operations())))

    from devkit.images import make_image

    first = make_image(**IMAGES[suffixes[0]])
    first_tag = f"1.0-{suffixes[0]}"
    first_digest = ecr.push(repository, first_tag, first)
    invoke("incomplete (1 arch tag pushed)", container(), push_event(repository, first_tag, first_digest,
                                                                     first.media_type))
    events = seed_version(ecr, repository, "1.0", suffixes[1:])
    last = events[suffixes[-1]]
    # The container that assembled 1.0 keeps every config platform in its cache: it is the warm one.
    warm = container()
    invoke("new, cold cache", warm, last)
    invoke("current, cold cache (duplicate event, new container)", container(), last)
    invoke("current, warm cache (duplicate event)", warm, last)
    # The same images under a new version: a new index to write, every config already in the warm cache.
    events_11 = seed_version(ecr, repository, "1.1", suffixes)
    invoke("new, warm cache", warm, events_11[suffixes[-1]])
    # One child re-pushed with new content: its config is new, the others are cached.
    repushed = seed_version(ecr, repository, "1.1", suffixes[:1], revision="2")
    invoke("updated (1 child re-pushed), warm cache", warm, repushed[suffixes[0]])
    return results


def report_calls(ecr: FakeEcr) -> None:
    print("\n== 1. ECR calls per event (real handler, in-memory ECR)")
    header = (f"  {'scenario':<54} {'outcome':<10} {'Tags':>4} {'Batch':>5} {'URL':>4} {'Put':>4} {'total':>5}"
              "  goal (total excludes Tags)")
    for architectures in ARCH_SETS:
        print(f"\n  {architectures} architectures")
        print(header)
        for measured in measure_calls(ecr, architectures):
            tags = measured.count("ListTagsForResource")
            # The repository's policy is read once per container per TTL, not per event: shown, judged apart.
            count = CallCount(measured.scenario, measured.outcome,
                              tuple(o for o in measured.operations if o != "list_tags_for_resource"))
            total = len(count.operations)
            goal, verdict = "", ""
            if count.scenario.startswith(("incomplete", "current")):
                goal = "1 call"
                verdict = judge(f"ECR calls, {count.scenario}, {architectures} archs", f"{total}", total <= 1)
            elif count.scenario == "new, warm cache":
                goal = "1 read + 1 write + 1 verify read"
                wanted = ("batch_get_image", "put_image", "batch_get_image")
                verdict = judge(f"ECR calls, new with warm cache, {architectures} archs",
                                " + ".join(API_NAMES[o] for o in count.operations), count.operations == wanted)
            elif count.scenario == "new, cold cache":
                goal = f"(lower bound {3 + architectures}: 1 read + {architectures} URLs + 1 write + 1 verify)"
            print(f"  {count.scenario:<54} {count.outcome:<10} {tags:>4} {count.count('BatchGetImage'):>5} "
                  f"{count.count('GetDownloadUrlForLayer'):>4} {count.count('PutImage'):>4} {total:>5}  "
                  f"{goal} {verdict}".rstrip())
    print("  (Batch = BatchGetImage, URL = GetDownloadUrlForLayer, Put = PutImage, Tags = ListTagsForResource:\n"
          "   the repository's own policy, read once per container and repository per REPOSITORY_TAGS_TTL_SECONDS)")


# ------------------------------------------------------------------------------------------ 2. cold import

# CPU time of the import (process_time): on 2 shared cores, wall time mostly measures the neighbours.
TIMED = "import time as _t\n_s = _t.process_time()\n{code}\nprint(_t.process_time() - _s)\n"
BOTO3 = "import boto3"
HANDLER = "import ecr_multiarch.handler"
# The whole cold start of the function's own code: its import, then the composition root the first event builds.
BOTO3_CLIENT = "import boto3\nboto3.client('ecr')"
HANDLER_SERVICES = "import ecr_multiarch.handler\necr_multiarch.handler.services()"


def _timed(command: Sequence[str], env: Mapping[str, str]) -> float:
    result = subprocess.run(list(command), env=dict(env), cwd=tempfile.gettempdir(),  # noqa: S603 - our own command
                            capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"import run failed: {' '.join(command[:3])}...\n{result.stderr[-2000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def compare_imports(label: str, command: Callable[[str], list[str]], env: Mapping[str, str], runs: int, *,
                    baseline: str = BOTO3, subject: str = HANDLER, goal: bool = True) -> None:
    """Median of ``runs`` fresh processes each, alternating, after one discarded warm-up of each."""
    for code in (baseline, subject):
        _timed(command(TIMED.format(code=code)), env)
    baseline_times: list[float] = []
    subject_times: list[float] = []
    for _ in range(runs):
        baseline_times.append(_timed(command(TIMED.format(code=baseline)), env))
        subject_times.append(_timed(command(TIMED.format(code=subject)), env))
    baseline_median, subject_median = statistics.median(baseline_times), statistics.median(subject_times)
    ratio = subject_median / baseline_median
    verdict = "(no goal)"
    if goal:
        verdict = f"(goal <= {GOAL_IMPORT_RATIO}x) " + judge(f"cold import ratio, {label}", f"{ratio:.2f}x",
                                                               ratio <= GOAL_IMPORT_RATIO)
    print(f"  {label:<55} {baseline_median * 1000:6.1f} ms  {subject_median * 1000:6.1f} ms  {ratio:5.2f}x  {verdict}")


def report_imports(built: BuiltArtifacts, python313: str, runs: int) -> None:
    print(f"\n== 2. Cold import: `import ecr_multiarch.handler` vs a bare `import boto3` "
          f"(CPU time, fresh processes, median of {runs})")
    print(f"  {'':<55} {'boto3':>9} {'handler':>9} {'ratio':>6}")
    # lambda_environment sets LAMBDA_TASK_ROOT as Lambda does: Powertools and the X-Ray SDK act on it.
    source = {"PYTHONPATH": str(FUNCTION_CODE), "PATH": os.environ.get("PATH", "")}

    def venv_command(script: str) -> list[str]:
        return [sys.executable, "-c", script]

    compare_imports(".venv Python, tracing disabled", venv_command,
                    {**lambda_environment(FUNCTION_CODE, tracing=False), **source}, runs)
    compare_imports(".venv Python, X-Ray active", venv_command,
                    {**lambda_environment(FUNCTION_CODE, tracing=True), **source}, runs)
    sys_path = built.lambda_sys_path(RUNTIME_STANDIN)

    def built_command(script: str) -> list[str]:
        return bare_python_command(python313, sys_path, script)

    compare_imports("built artefacts, python3.13, tracing disabled", built_command,
                    lambda_environment(built.function_dir, tracing=False), runs)
    compare_imports("built artefacts, python3.13, X-Ray active (as deployed)", built_command,
                    lambda_environment(built.function_dir, tracing=True), runs)
    print(f"  {'':<55} {'+client':>9} {'+services':>9}")
    compare_imports("as deployed, + boto3.client('ecr') / + handler.services()", built_command,
                    lambda_environment(built.function_dir, tracing=True), runs,
                    baseline=BOTO3_CLIENT, subject=HANDLER_SERVICES, goal=False)


# ------------------------------------------------------------------------------ 3. peak RSS, CPU per event

# Runs on the bare python3.13 with the built artefacts: argv[1] = a JSON job, argv[2] = where to write the result.
WORKER = r'''
import json, resource, sys, time

with open(sys.argv[1], encoding="utf-8") as stream:
    job = json.load(stream)


''' + LAMBDA_CONTEXT_SOURCE + r'''

def peak_kib():
    # VmHWM: the peak RSS of this process image. Not ru_maxrss: on Linux, after fork/vfork + exec it keeps the
    # peak of the process it was forked from (here the benchmark itself, moto and all).
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


result = {"groups": {}}
started = time.process_time()
from ecr_multiarch import handler
result["import_cpu"] = time.process_time() - started
result["peak_after_import_kib"] = peak_kib()
for name, events in job["groups"]:
    outcomes, cpu = [], []
    for event in events:
        started = time.process_time()
        outcomes.append(handler.lambda_handler(event, Context())["outcome"])
        cpu.append(time.process_time() - started)
    result["groups"][name] = {"outcomes": outcomes, "cpu": cpu}
result["peak_kib"] = peak_kib()
with open(sys.argv[2], "w", encoding="utf-8") as stream:
    json.dump(result, stream)
'''


def run_worker(python313: str, built: BuiltArtifacts, endpoint: str, groups: list[tuple[str, list[Any]]], *,
               tracing: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        job, out = Path(scratch) / "job.json", Path(scratch) / "result.json"
        job.write_text(json.dumps({"groups": groups}), encoding="utf-8")
        command = bare_python_command(python313, built.lambda_sys_path(RUNTIME_STANDIN), WORKER, str(job), str(out))
        env = {**lambda_environment(built.function_dir, tracing=tracing), "AWS_ENDPOINT_URL_ECR": endpoint}
        process = subprocess.run(command, env=env, cwd=scratch,  # noqa: S603 - our own command
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600, check=False)
        if process.returncode != 0:
            raise RuntimeError(f"worker failed:\n{process.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return result


def mib(kib: float) -> str:
    return f"{kib * 1024 / MB:5.1f} MB ({kib / 1024:5.1f} MiB)"


def report_memory_and_cpu(ecr: FakeEcr, built: BuiltArtifacts, python313: str, events_per_group: int) -> None:
    print("\n== 3. Peak RSS and CPU per event: built artefacts on python3.13, own process, ECR over 127.0.0.1")
    untagged: dict[str, Any] = json.loads((EVENTS / "push-untagged.json").read_text(encoding="utf-8"))
    with moto_server() as endpoint:
        ecr.create_repository("rss")
        rss_event = seed_version(ecr, "rss", "1.0", ARCH_SETS[2])["arm64"]
        rss = run_worker(python313, built, endpoint, [("full", [rss_event])], tracing=True)
        outcome = rss["groups"]["full"]["outcomes"][0]
        peak = rss["peak_kib"] * 1024
        verdict = judge("peak RSS of one full assembly", f"{peak / MB:.1f} MB", peak <= GOAL_PEAK_RSS)
        print(f"  after importing the handler:              peak RSS {mib(rss['peak_after_import_kib'])}")
        print(f"  after one full assembly ({outcome}, 2 archs): peak RSS {mib(rss['peak_kib'])}  "
              f"(goal <= 80 MB) {verdict}")
        print("  (X-Ray active, as deployed; the first event also builds the ECR client and the blob reader)")

        for tracing_label, tracing in (("X-Ray active", True), ("tracing disabled", False)):
            groups = cpu_groups(ecr, "cpu-xray" if tracing else "cpu-off", events_per_group, untagged)
            cpu = run_worker(python313, built, endpoint, groups, tracing=tracing)
            print(f"\n  CPU time per event, {tracing_label} (process_time; the handler's import took "
                  f"{cpu['import_cpu'] * 1000:.0f} ms CPU)")
            for name, _ in groups:
                group = cpu["groups"][name]
                outcomes = ", ".join(sorted(set(group["outcomes"])))
                per_event = statistics.mean(group["cpu"]) * 1000
                print(f"    {CPU_LABELS[name]:<70} {per_event:7.2f} ms  (n={len(group['cpu'])}, {outcomes})")


CPU_LABELS = {
    "first": "first event (full assembly + the lazily built ECR client and blob reader)",
    "full": "full assembly, warm container (new index, configs not cached)",
    "duplicate": "duplicate event (index current, configs cached)",
    "skipped": "skipped event (untagged push)",
}


def cpu_groups(ecr: FakeEcr, repository: str, count: int, untagged: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    """Events for one CPU worker: ``count + 1`` versions to assemble (distinct configs), then duplicates, skips."""
    ecr.create_repository(repository)
    full = [seed_version(ecr, repository, f"2.{n}", ARCH_SETS[2], revision=str(n))["arm64"] for n in range(count + 1)]
    return [
        ("first", full[:1]),
        ("full", full[1:]),
        ("duplicate", [copy.deepcopy(full[0]) for _ in range(count)]),
        ("skipped", [copy.deepcopy(untagged) for _ in range(count)]),
    ]


# ---------------------------------------------------------------------------------------------- 4. zips


def zipped_size(folder: Path) -> tuple[int, int, int]:
    """(zip bytes, unzipped bytes, files) for ``folder`` zipped with deflate, as a deployment package."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "package.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path in files:
                zipped.write(path, path.relative_to(folder))
        return archive.stat().st_size, sum(p.stat().st_size for p in files), len(files)


def report_zips(built: BuiltArtifacts) -> None:
    print("\n== 4. Deployment packages (.aws-sam/build zipped with deflate)")
    total = 0
    for label, folder in (("function", built.function_dir), ("layer", built.layer_dir)):
        size, unzipped, files = zipped_size(folder)
        total += size
        print(f"  {label:<9} zip {size:>10,} bytes ({size / MB:5.2f} MB)   "
              f"unzipped {unzipped:>11,} bytes, {files} files")
    verdict = judge("function + layer zip", f"{total / MB:.2f} MB", total <= GOAL_ZIP_TOTAL)
    print(f"  {'total':<9} zip {total:>10,} bytes ({total / MB:5.2f} MB)   (goal <= 5 MB) {verdict}")


# ---------------------------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", type=Path, default=ROOT / ".aws-sam" / "build")
    parser.add_argument("--import-runs", type=int, default=11, help="fresh processes per module and variant")
    parser.add_argument("--events", type=int, default=30, help="events per CPU-time group")
    parser.add_argument("--cold-start-runs", type=int, default=7, help="fresh processes per cold-start measurement")
    parser.add_argument("--cold-start-compare", action="store_true",
                        help="section 5 also measures (a) against the same-work floor and (b) against the boto3 floor "
                             "(no verdicts)")
    parser.add_argument("--sections", default="1,2,3,4,5,6", help="which sections to run (comma-separated numbers)")
    args = parser.parse_args(argv)

    built = BuiltArtifacts.at(args.build_dir.resolve())
    python313 = find_python313()
    if not built.exists() or python313 is None or not (RUNTIME_STANDIN / "boto3").is_dir():
        print("needs `make sam-build runtime-standin` and a python3.13 (make bench does both)", file=sys.stderr)
        return 2
    for name, value in {**LAMBDA_LIKE_ENVIRONMENT, **QUIET_POWERTOOLS}.items():
        if name not in ("PATH", "AWS_ENDPOINT_URL", "LANG"):
            os.environ[name] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"ecr-multiarch benchmark  (host {os.uname().machine}, {os.cpu_count()} CPUs, load average {load}; "
          f"python3.13 {python313})")
    from benchmarks.cold_start import report_cold_start
    from benchmarks.round_trips import report_round_trips
    from devkit.fake_ecr import FakeEcr

    sections = {int(number) for number in args.sections.split(",")}
    with FakeEcr() as ecr:
        if 1 in sections:
            report_calls(ecr)
        if 2 in sections:
            report_imports(built, python313, args.import_runs)
        if 3 in sections:
            report_memory_and_cpu(ecr, built, python313, args.events)
        if 4 in sections:
            report_zips(built)
        if 5 in sections:
            report_cold_start(ecr, built, python313, args.cold_start_runs, compare=args.cold_start_compare)
        if 6 in sections:
            report_round_trips(ecr)

    print("\n== Goals")
    for verdict in VERDICTS:
        print(f"  {'PASS' if verdict.passed else 'MISS'}  {verdict.goal}: {verdict.figure}")
    missed = sum(not verdict.passed for verdict in VERDICTS)
    print(f"\n{len(VERDICTS) - missed} of {len(VERDICTS)} goals met" + (f", {missed} missed" if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
