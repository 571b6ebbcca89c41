"""The training modules are plain scripts' siblings (sagemaker/training/*.py), not a package:
a SageMaker container runs train.py from that folder. Tests import them the same way."""

import sys
from pathlib import Path

TRAINING = Path(__file__).resolve().parents[3] / "sagemaker" / "training"
if str(TRAINING) not in sys.path:
    sys.path.insert(0, str(TRAINING))
