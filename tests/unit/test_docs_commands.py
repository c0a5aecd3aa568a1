"""The commands the docs show exist: every `make` target, `ecr-multiarch` subcommand and flag, and `sam` line in
README.md's and every docs/*.md page's code blocks; and `make help` lists every target of the Makefile."""

import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecr_multiarch import cli

ROOT = Path(__file__).resolve().parents[2]
SHELL_BLOCKS = {"sh", "bash", "console", "shell"}
# README and every docs page with a shell code block (operations.md's deploy commands included).
DOCS = [ROOT / "README.md", *(page for page in sorted((ROOT / "docs").glob("*.md"))
                              if re.search(r"```(?:" + "|".join(SHELL_BLOCKS) + r")\n", page.read_text()))]
SAM_SUBCOMMANDS = {"build", "deploy", "validate", "local", "sync", "logs", "delete", "list"}


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return {match for match in re.findall(r"^([a-zA-Z0-9_.-]+):(?!=)", text, re.M) if match != ".PHONY"}


def commands(document: Path) -> Iterator[tuple[str, list[str]]]:
    """(the line as written, one command's words) for every command in the document's shell code blocks."""
    for language, body in re.findall(r"```(\w*)\n(.*?)```", document.read_text(), re.S):
        if language not in SHELL_BLOCKS:
            continue
        text = body.replace("\\\n", " ")
        for line in text.splitlines():
            if language == "console" and not line.startswith("$ "):
                continue  # output, not a command
            command = line[2:] if language == "console" else line
            command = re.sub(r"\d*(?:>>|>|<)\s*\S+", " ", command)  # redirections: not part of the command
            lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            lexer.commenters = "#"
            words: list[str] = []
            for token in [*lexer, ";"]:
                if set(token) <= set("|&;"):
                    if words:
                        yield line, words
                    words = []
                else:
                    words.append(token)


def without_assignments(words: list[str]) -> list[str]:
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        words = words[1:]
    return words


def check(line: str, words: list[str], targets: set[str]) -> str | None:
    """Why this command would not work as written, or None."""
    words = without_assignments(words)
    if not words:
        return None
    program = words[0]
    if program == "make":
        unknown = [word for word in words[1:] if "=" not in word and not word.startswith("-") and word not in targets]
        return f"make has no target {unknown}" if unknown else None
    if program.endswith("ecr-multiarch"):
        try:
            cli.build_parser().parse_args(words[1:])
        except SystemExit as exit_info:
            return None if exit_info.code == 0 else f"ecr-multiarch refuses {words[1:]}"
        return None
    if program == "sam" or program.endswith("/sam"):
        if program != ".venv-sam/bin/sam":
            return "sam is not on PATH: use make sam-build / make deploy or .venv-sam/bin/sam"
        if len(words) < 2 or words[1] not in SAM_SUBCOMMANDS:
            return f"sam has no subcommand {words[1:2]}"
    return None


@pytest.mark.parametrize("document", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_command_in_the_code_blocks_exists(document: Path) -> None:
    targets = makefile_targets()
    found = list(commands(document))
    assert found, f"no command found in {document}: the parser is broken"
    problems = [(line, problem) for line, words in found if (problem := check(line, words, targets))]
    assert problems == []


@pytest.mark.parametrize("document", [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))],
                         ids=lambda path: str(path.relative_to(ROOT)))
def test_every_make_target_named_in_the_prose_exists(document: Path) -> None:
    named = set(re.findall(r"`make ([a-z0-9-]+)", document.read_text()))
    assert named - makefile_targets() == set()


def test_the_checker_catches_what_would_not_work() -> None:
    targets = makefile_targets()
    assert check("", ["make", "no-such-target"], targets)
    assert check("", ["ecr-multiarch", "plan"], targets)  # the reference is missing
    assert check("", ["ecr-multiarch", "reconcile", "--no-such-flag"], targets)
    assert check("", ["sam", "deploy", "--guided"], targets)
    assert check("", ["X=1", "ecr-multiarch", "frobnicate"], targets)
    assert check("", [".venv/bin/ecr-multiarch", "plan", "golang:1.0", "--json"], targets) is None
    assert check("", [".venv-sam/bin/sam", "deploy"], targets) is None


def test_make_help_lists_every_target() -> None:
    result = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    listed = set(re.findall(r"^  make (\S+)", result.stdout, re.M))
    assert makefile_targets() - listed == set(), "targets without a `## what it does` comment on their rule line"
    assert listed - makefile_targets() == set()


def test_readme_stays_short() -> None:
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250


@pytest.mark.parametrize("document", [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))],
                         ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves(document: Path) -> None:
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", document.read_text())
    missing = [target for target in targets if "://" not in target and not (document.parent / target).exists()]
    assert missing == []
