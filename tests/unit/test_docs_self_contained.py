"""The repository speaks of itself alone: no text cites a document outside it, a tracker number or a machine
path, and every relative Markdown link in the docs leads to a file that exists."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEXT_SUFFIXES = {".md", ".py", ".html", ".yml", ".yaml", ".toml", ".cfg", ".txt"}

# Each pattern names one kind of reference a reader of the repository cannot follow.
OUTSIDE_REFERENCES = {
    "a design document outside the repository": re.compile(r"\bDESIGN\b"),
    "a domain notes file outside the repository": re.compile(r"\bDOMAIN\.md\b"),
    "a style guide outside the repository": re.compile(r"\bSTYLE\.md\b"),
    "a sibling directory of the checkout": re.compile(r"\.\./shared\b"),
    "a path on a development machine": re.compile(r"/work/"),
    "an issue number": re.compile(r"\b[Ii]ssues? #?\d"),
    "an item number of a task list": re.compile(r"\b[Ii]tems? \d"),
    "a deliverable number": re.compile(r"\b[Dd]eliverables? \d"),
    "a stop number": re.compile(r"\b[Ss]top \d+"),
    "a wave number": re.compile(r"\b[Ww]ave \d"),
}

MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    this_file = Path(__file__).resolve()
    return [ROOT / name for name in names.splitlines()
            if Path(name).suffix in TEXT_SUFFIXES and (ROOT / name).resolve() != this_file and (ROOT / name).is_file()]


def test_no_tracked_text_cites_documents_numbers_or_paths_outside_the_repository() -> None:
    found = []
    for path in tracked_text_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for what, pattern in OUTSIDE_REFERENCES.items():
                if pattern.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {what}: {line.strip()[:120]}")
    assert not found, "references to things outside the repository:\n" + "\n".join(found)


def test_every_relative_link_in_the_docs_points_to_a_file_in_the_repository() -> None:
    pages = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md", ROOT / "CONTRIBUTING.md"]
    broken = []
    for page in pages:
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
            for target in MARKDOWN_LINK.findall(line):
                if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                    continue  # a web address, mailto: or an anchor on the same page
                linked = (page.parent / target.split("#", 1)[0]).resolve()
                if not linked.exists() or ROOT not in (linked, *linked.parents):
                    broken.append(f"{page.relative_to(ROOT)}:{number}: {target}")
    assert not broken, "links to files that are not in the repository:\n" + "\n".join(broken)
