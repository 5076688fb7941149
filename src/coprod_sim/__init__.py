"""coprod-sim: agent-based simulation of community-service co-production."""

__version__ = "0.1.0"
