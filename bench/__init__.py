"""The project benchmark (``make bench`` runs ``bench/run.py``)."""

import sys
from pathlib import Path

_LAMBDAS = str(Path(__file__).resolve().parents[1] / "lambdas")
if _LAMBDAS not in sys.path:
    sys.path.insert(0, _LAMBDAS)
