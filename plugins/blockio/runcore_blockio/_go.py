"""Small helpers that render values the way Go's fmt/strconv/errors do.

goresctrl builds its messages with ``%#v`` (Go-syntax quoting of strings), ``%v`` of
string slices and hashicorp/go-multierror lists; the helpers here produce the same text.
"""
from __future__ import annotations

import math
import struct
from typing import Iterable, Sequence

# re-exported: goresctrl's messages use the same Go quoting and errno texts as ctr's
from runcore.api import errno_text, path_error  # noqa: F401
from runcore.api import go_quote as quote  # noqa: F401


def slice_v(items: Sequence[str]) -> str:
    """``fmt.Sprintf("%v", []string{...})``: ``[a b c]``."""
    return "[" + " ".join(items) + "]"


def multierror(errors: Iterable[str]) -> str:
    """hashicorp/go-multierror's default list format (v1.1.1)."""
    errs = list(errors)
    if len(errs) == 1:
        return f"1 error occurred:\n\t* {errs[0]}\n\n"
    points = "\n\t".join(f"* {e}" for e in errs)
    return f"{len(errs)} errors occurred:\n\t{points}\n\n"


def multierror_line(errors: Iterable[str]) -> str:
    """The same list on one line (runcore prints every error as one line)."""
    errs = list(errors)
    noun = "error" if len(errs) == 1 else "errors"
    return f"{len(errs)} {noun} occurred: " + "; ".join(errs)


# ------------------------------------------------------------------ float formatting
def _float32(value: float) -> float:
    """``float32(value)`` as a Python float (round to nearest even; overflow → inf)."""
    try:
        return struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)


def _shortest_digits(value: float, bits: int) -> "tuple[str, int]":
    """Shortest decimal digits ``d`` and decimal point position ``dp`` (value = 0.d × 10^dp)
    that read back as the same float of ``bits`` bits."""
    if value == 0:
        return "0", 1
    target = _float32(value) if bits == 32 else value
    for prec in range(1, 18):
        text = f"{abs(target):.{prec - 1}e}"
        back = float(text)
        if (_float32(back) if bits == 32 else back) == abs(target):
            break
    mantissa, exp = text.split("e")
    digits = mantissa.replace(".", "").rstrip("0") or "0"
    return digits, int(exp) + 1


def format_float_g(value: float, bits: int = 64) -> str:
    """``strconv.FormatFloat(value, 'g', -1, bits)``."""
    if bits == 32:
        value = _float32(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    digits, dp = _shortest_digits(value, bits)
    if digits == "0":
        return sign + "0"
    exp = dp - 1
    # %g of the shortest form: exponent notation when exp < -4 or exp >= 6.
    eprec = 6
    if exp < -4 or exp >= eprec:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        esign = "-" if exp < 0 else "+"
        return f"{sign}{mant}e{esign}{abs(exp):02d}"
    if dp <= 0:
        return f"{sign}0.{'0' * (-dp)}{digits}"
    if dp >= len(digits):
        return f"{sign}{digits}{'0' * (dp - len(digits))}"
    return f"{sign}{digits[:dp]}.{digits[dp:]}"
