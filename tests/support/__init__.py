"""Helpers shared by runcore's test suites (image builder, containerd harness)."""
