"""Command-line pieces that must stay cheap to import (click only)."""
from __future__ import annotations

import re
from typing import Any, Optional

import click

_ATOI = re.compile(r"^[+-]?[0-9]+$")


class GoInt(click.ParamType):
    """An integer as Go's ``strconv.Atoi`` reads it (what urfave/cli's IntSlice uses)."""

    name = "integer"

    def convert(self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value)
        if not _ATOI.match(text):
            self.fail(f'strconv.Atoi: parsing "{text}": invalid syntax', param, ctx)
        number = int(text)
        if not -(1 << 63) <= number < (1 << 63):
            self.fail(f'strconv.Atoi: parsing "{text}": value out of range', param, ctx)
        return number


GPU_MODES = ("hook", "cdi")
DEFAULT_SPEC_DIRS_TEXT = "/etc/cdi:/var/run/cdi"
SPEC_DIRS_ENV = "RUNCORE_CDI_SPEC_DIRS"
