import json
import re
import subprocess
import sys
from pathlib import Path

from services.matching.solve import parse_instance, solve_instance

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


def test_unknown_weight_is_refused():
    instance = example_block("example-instance")
    instance["weights"] = {"km_kost": 3}
    try:
        parse_instance(instance)
    except ValueError as error:
        assert "km_kost" in str(error)
    else:
        raise AssertionError("unknown weight accepted")
