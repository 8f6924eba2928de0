"""Command-line pieces that must stay cheap to import (click only)."""

from __future__ import annotations

GPU_MODES = ("hook", "cdi")
DEFAULT_SPEC_DIRS_TEXT = "/etc/cdi:/var/run/cdi"
SPEC_DIRS_ENV = "RUNCORE_CDI_SPEC_DIRS"
