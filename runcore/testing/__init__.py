"""Helpers for testing runcore plugins (opt in with ``pytest_plugins = ["runcore.testing"]``)."""
