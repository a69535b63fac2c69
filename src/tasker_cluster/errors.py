"""The root of every error the library raises; each layer has its own `errors` module."""

from __future__ import annotations


class ClusterError(Exception):
    """Base of every error the lifecycle library raises."""
