"""The daemon's end-to-end tests share the mirror suite's process and client helpers."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Mirror"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
