"""The README stays true: the two commands, and every configuration variable the code reads."""
from pathlib import Path

from wspolnota.config import ROOT, SETTINGS, secrets_table


def test_the_readme_documents_every_configuration_variable() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in readme]
    assert not missing, f"add to README (python -m wspolnota.config): {missing}"


def test_the_readme_lists_every_secret_with_the_processes_that_refuse_to_start_without_it() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert secrets_table() in readme, "update README's Secrets table (python -m wspolnota.config)"


def test_ci_runs_the_readmes_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
    assert "make test" in Path(ROOT / ".ci/run").read_text()


def test_ci_runs_the_linters_before_the_tests() -> None:
    steps = [line.strip() for line in Path(ROOT / ".ci/run").read_text().splitlines()]
    assert "make lint" in steps and steps.index("make lint") < steps.index("make test")
