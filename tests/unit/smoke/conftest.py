"""The CDK config the smoke script checks overrides with (scripts/smoke is on pytest's
pythonpath)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
