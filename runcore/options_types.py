"""Option value types that read numbers the way ctr's Go flags do, with their Go range.

ctr's numeric flags are Go ``flag`` values: an ``int64`` flag is ``strconv.ParseInt(s, 0,
64)``, a ``uint64`` one ``strconv.ParseUint(s, 0, 64)``, an int slice ``strconv.Atoi``.
So ``0x10`` and ``0o17`` are numbers, ``-5`` is not a ``uint64``, and a value outside the
type's range is refused (``value out of range``) instead of wrapping or being stored as
a number Go cannot read back. Declare every integer option with :class:`GoInt` naming
the Go type of the field it ends up in; the range is then part of the declaration
(:attr:`GoInt.min`, :attr:`GoInt.max`), which tests use to walk every option at its
bounds. Plugins get these types from :mod:`runcore.api`.
"""

from __future__ import annotations

import math
import re
from typing import Any, Optional

import click

from runcore.gocompat.strconv import GO_INT_RANGES, RANGE, SYNTAX, GoNumError, parse_int, parse_uint
from runcore.gocompat.text import go_quote

__all__ = ["GoFloat", "GoInt"]


class GoInt(click.ParamType):
    """An integer of Go type ``go_type`` (``int64``, ``uint64``, ``uint32``, ``int`` …).

    ``base`` is strconv's base (0: Go syntax with ``0x``/``0o``/``0b`` prefixes, as the
    ``flag`` package reads); ``func`` names the parser in messages (``Atoi`` for an
    ``IntSlice`` flag). Errors read like Go's: ``strconv.ParseInt: parsing "…": value out
    of range``.
    """

    def __init__(self, go_type: str = "int", *, base: int = 0, func: Optional[str] = None) -> None:
        if go_type not in GO_INT_RANGES:
            raise ValueError(f"not a Go integer type: {go_type!r}")
        self.go_type = go_type
        self.name = go_type
        self.base = base
        self.min, self.max = GO_INT_RANGES[go_type]
        self.unsigned = go_type.startswith("u")
        self.func = func or ("ParseUint" if self.unsigned else "ParseInt")
        self._bits = int(go_type.lstrip("uint") or 64)

    def __repr__(self) -> str:
        return f"GoInt({self.go_type!r})"

    def parse(self, text: str) -> int:
        """``text`` as the Go type; :class:`GoNumError` with Go's text otherwise."""
        if self.unsigned:
            return parse_uint(text, self.base, self._bits, self.func)
        return parse_int(text, self.base, self._bits, self.func)

    def convert(
        self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]
    ) -> int:
        """Click hook: parse ``value`` (or range-check an int default)."""
        if isinstance(value, int) and not isinstance(value, bool):
            if not self.min <= value <= self.max:
                self.fail(str(GoNumError(self.func, str(value), RANGE)), param, ctx)
            return value
        try:
            return self.parse(str(value))
        except GoNumError as exc:
            self.fail(str(exc), param, ctx)


_GO_FLOAT = re.compile(r"^[+-]?(inf|infinity|nan|(\d+\.?\d*|\.\d+)(e[+-]?\d+)?)$", re.IGNORECASE)


class GoFloat(click.ParamType):
    """A ``float64`` as ``strconv.ParseFloat(s, 64)`` reads it (overflow is ``value out of range``)."""

    name = "float64"

    def convert(
        self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]
    ) -> float:
        """Click hook: parse ``value`` like Go."""
        if isinstance(value, float):
            return value
        text = str(value)
        if not _GO_FLOAT.match(text):
            self.fail(f"strconv.ParseFloat: parsing {go_quote(text)}: {SYNTAX}", param, ctx)
        number = float(text)
        if math.isinf(number) and "inf" not in text.lower():
            self.fail(f"strconv.ParseFloat: parsing {go_quote(text)}: {RANGE}", param, ctx)
        return number
