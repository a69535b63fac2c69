"""Stand-in processes for the lifecycle tests."""

from pathlib import Path

FAKE_SERVICE = Path(__file__).resolve().parent / "fake_service.py"
TASKER_WORKER = Path(__file__).resolve().parent / "tasker_worker.py"
