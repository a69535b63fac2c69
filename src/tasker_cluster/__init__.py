"""Run, watch, load and test a multi-instance tasker cluster on one machine."""

__version__ = "0.1.0"
