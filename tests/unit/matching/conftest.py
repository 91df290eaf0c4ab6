import sys
from pathlib import Path

# The repository is not installed into the venv; make `services.matching` importable from a bare `pytest`.
REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
