import sys
from pathlib import Path

# The repository is not installed into the venv; make `services.matching` importable from a bare `pytest`.
REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


import pytest  # noqa: E402


@pytest.fixture
def matching(tmp_path):  # type: ignore[no-untyped-def]
    from bench.matching.service_harness import MatchingService

    service = MatchingService(tmp_path)
    yield service
    service.close()
