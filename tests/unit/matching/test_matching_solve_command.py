import copy
import json
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from marshmallow import ValidationError

from services.matching.solve import INVALID_INPUT, WeightsSchema, parse_instance, solve_instance
from services.matching.solver import Weights

REPO = Path(__file__).resolve().parents[3]
FORMAT_DOC = REPO / "docs" / "solver-format.md"


def example_block(marker: str) -> dict:
    text = FORMAT_DOC.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {marker} -->\s*```json\n(.*?)\n```", text, re.DOTALL)
    assert match, f"no {marker} block in {FORMAT_DOC}"
    return json.loads(match.group(1))


def test_documented_example_gives_the_documented_assignment():
    result = solve_instance(parse_instance(example_block("example-instance")))
    assert result == example_block("example-output")


@pytest.mark.e2e  # runs the command in its own process
def test_solver_command_reads_stdin_and_writes_json_to_stdout():
    instance = json.dumps(example_block("example-instance"))
    done = subprocess.run(
        [sys.executable, "-m", "services.matching.solve"],
        input=instance, capture_output=True, text=True, cwd=REPO, check=True,
    )
    output = json.loads(done.stdout)
    assert output["summary"] == {"needs": 4, "slots": 5, "assigned_slots": 4, "unmet_slots": 1}
    assert "upoważnienia" in output["unmet"][0]["reason"]


def test_expired_kamilka_check_in_the_example_keeps_w3_off_the_tutoring_need():
    result = solve_instance(parse_instance(example_block("example-instance")))
    tutors = {a["provider_id"] for a in result["assignments"] if a["need_id"] == "N-102"}
    assert tutors == {"W-1"}


def test_need_whose_windows_have_all_passed_is_reported_as_window_passed():
    instance = example_block("example-instance")
    instance["now"] = "2026-11-26T23:00:00+01:00"
    result = solve_instance(parse_instance(instance))
    passed = {u["need_id"] for u in result["unmet"] if u["code"] == "window_passed"}
    assert passed == {"N-101", "N-102", "N-103"}


def test_unknown_weight_is_refused_with_its_path():
    instance = example_block("example-instance")
    instance["weights"] = {"km_kost": 3}
    with pytest.raises(ValidationError) as refused:
        parse_instance(instance)
    assert refused.value.messages == {"weights": {"km_kost": ["Unknown field."]}}


def test_the_weights_format_names_every_solver_weight():
    assert set(WeightsSchema().fields) == {w.name for w in fields(Weights)}


def run_command(stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services.matching.solve"], input=stdin, capture_output=True,
                          text=True, cwd=REPO)


def broken(change) -> dict:
    instance = copy.deepcopy(example_block("example-instance"))
    change(instance)
    return instance


@pytest.mark.parametrize(("change", "errors"), [
    (lambda i: i["needs"][0].pop("category"), {"needs": {"0": {"category": ["Missing data for required field."]}}}),
    # a misspelt flag is refused, never ignored (involves_minor is what turns the Kamilka gate on)
    (lambda i: i["needs"][1].update(involves_minors=True), {"needs": {"1": {"involves_minors": ["Unknown field."]}}}),
    (lambda i: i["needs"][0]["windows"][0].update(end="2026-11-26T09:00:00+01:00"),
     {"needs": {"0": {"windows": {"0": {"end": ["must be after start"]}}}}}),
    (lambda i: i["providers"][2].update(max_open_tasks=-1),
     {"providers": {"2": {"max_open_tasks": ["Must be greater than or equal to 0."]}}}),
    (lambda i: i["needs"][0]["windows"][0].update(start="2026-11-26T08:00:00", end="2026-11-26T11:00:00"),
     {"_schema": ["times (now, windows, availability) must all carry a time zone, or none of them"]}),
    (lambda i: i.update(expected=[i["needs"][0]]), {"expected": ["ids must differ from those in needs"]}),
])
@pytest.mark.e2e  # runs the command in its own process
def test_the_command_refuses_a_wrong_instance_with_field_errors_and_writes_no_assignment(change, errors):
    done = run_command(json.dumps(broken(change)))
    assert (done.returncode, done.stdout) == (INVALID_INPUT, "")
    assert json.loads(done.stderr) == {"errors": errors}


@pytest.mark.e2e  # runs the command in its own process
def test_the_command_refuses_text_that_is_not_json():
    done = run_command('{"needs": [')
    assert (done.returncode, done.stdout) == (INVALID_INPUT, "")
    assert json.loads(done.stderr)["errors"]["_json"][0].startswith("not valid JSON")
