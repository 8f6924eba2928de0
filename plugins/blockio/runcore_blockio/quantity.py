"""Kubernetes ``resource.Quantity`` parsing, as goresctrl v0.3.0 uses it.

goresctrl calls ``resource.ParseQuantity(text)`` and then ``Value()``: the number
rounded up (away from zero) to an integer. This module reproduces both, including the
corner cases of the int64 fast path (values that overflow int64 wrap or become 0, as
they do in Go) so that a configuration is accepted or refused exactly as ctr does.

Grammar: ``[+-] digits [. digits] [suffix]`` where the suffix is a decimal SI suffix
(``n u m "" k M G T P E``), a binary one (``Ki Mi Gi Ti Pi Ei``) or a decimal exponent
(``e``/``E`` followed by a signed integer).
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Optional, Tuple

from runcore.api import GoNumError, parse_int

MAX_INT64 = (1 << 63) - 1
MIN_INT64 = -(1 << 63)

_DECIMAL_SUFFIXES = {
    "n": -9,
    "u": -6,
    "m": -3,
    "": 0,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_SUFFIX_CHARS = set("eEinumkKMGTP")
_DIGITS = set("0123456789")

DECIMAL_SI, BINARY_SI, DECIMAL_EXPONENT = "DecimalSI", "BinarySI", "DecimalExponent"


class QuantityError(ValueError):
    """The text is not a quantity."""


def _wrap64(v: int) -> int:
    """Two's-complement wrap to int64, like Go integer overflow."""
    return ((v + (1 << 63)) % (1 << 64)) - (1 << 63)


def _wrap32(v: int) -> int:
    return ((v + (1 << 31)) % (1 << 32)) - (1 << 31)


def _split(text: str) -> Tuple[bool, str, str, str, str]:
    """(positive, value, numerator, denominator, suffix) of ``text``."""
    positive = True
    pos, end = 0, len(text)
    if pos < end and text[0] in "+-":
        positive = text[0] != "-"
        pos += 1
    while True:  # leading zeros
        if pos >= end:
            return positive, "0", "0", "", ""
        if text[pos] != "0":
            break
        pos += 1
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    num = text[start:pos]
    if pos >= end:
        return positive, text, num, "", ""
    if num == "":
        num = "0"
    denom = ""
    if text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        denom = text[start:pos]
        if pos >= end:
            return positive, text, num, denom, ""
    value = text[:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos >= end:
        return positive, value, num, denom, text[suffix_start:]
    if text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos >= end:
        return positive, value, num, denom, text[suffix_start:]
    raise QuantityError(
        "quantities must match the regular expression "
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )


def _go_parse_int(text: str) -> Optional[int]:
    """strconv.ParseInt(text, 10, 64), or None."""
    try:
        return parse_int(text, 10, 64)
    except GoNumError:
        return None


def _interpret(suffix: str) -> Optional[Tuple[int, int, str]]:
    """(base, exponent, format) of a suffix, or None."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        parsed = _go_parse_int(suffix[1:])
        if parsed is None:
            return None
        return 10, _wrap32(parsed), DECIMAL_EXPONENT
    return None


def _int64_multiply(a: int, b: int) -> Tuple[int, bool]:
    if a in (0, 1) or b in (0, 1):
        return a * b, True
    if a == MIN_INT64 or b == MIN_INT64:
        return 0, False
    c = _wrap64(a * b)
    return c, _go_div(c, b) == a


def _go_div(a: int, b: int) -> int:
    """Go integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _go_mod(a: int, b: int) -> int:
    return a - _go_div(a, b) * b


def _scale_up(base: int, scale: int) -> int:
    """positiveScaleInt64 (the ``ok`` result is ignored by Value(), as in Go)."""
    if scale == 0:
        return base
    if scale in (1, 2, 3, 6, 9):
        factor = 10**scale
        if base in (0, 1):
            return base * factor
        if base == MIN_INT64:
            return 0
        return _wrap64(base * factor)
    value = base
    for _ in range(scale):
        if value in (0, 1):
            value = value * 10
            continue
        if value == MIN_INT64:
            return 0
        c = _wrap64(value * 10)
        if _go_div(c, 10) != value:
            return 0
        value = c
    return value


def _scale_down(base: int, scale: int) -> int:
    """negativeScaleInt64: divide by 10^scale, rounding away from zero."""
    value, fraction = base, False
    for _ in range(scale):
        if not fraction and _go_mod(value, 10) != 0:
            fraction = True
        value = _go_div(value, 10)
        if value == 0:
            if fraction:
                return 1 if base > 0 else -1
            return 0
    if fraction:
        value = value + 1 if base > 0 else value - 1
    return value


def parse(text: str) -> int:
    """``resource.MustParse(text).Value()``; :class:`QuantityError` when it does not parse."""
    if text == "":
        raise QuantityError("quantities must match the regular expression")
    if text == "0":
        return 0
    positive, value, num, denom, suffix = _split(text)
    interpreted = _interpret(suffix)
    if interpreted is None:
        raise QuantityError("unable to parse quantity's suffix")
    base, exponent, fmt = interpreted

    precision, scale, mantissa = 0, 0, 1
    if fmt in (DECIMAL_EXPONENT, DECIMAL_SI):
        scale = exponent
        precision = 18 - (len(num) + len(denom))
    elif exponent >= 0 and len(denom) == 0:
        mantissa = _wrap64(1 << exponent) if exponent < 64 else 0
        precision = 15 - len(num) - int(exponent * 3 / 10) - 1
    else:
        precision = -1

    if precision >= 0:
        scale -= len(denom)
        if scale >= -9:
            shifted = _go_parse_int(num + denom)
            if shifted is None:
                raise QuantityError("unable to parse numeric part of quantity")
            result, ok = _int64_multiply(shifted, mantissa)
            if ok:
                if not positive:
                    result = -result
                # Value() of int64Amount{result, scale}
                if scale < 0:
                    return _scale_down(result, -scale)
                return _scale_up(result, scale)

    return _slow_value(value, base, exponent, fmt)


def _slow_value(value: str, base: int, exponent: int, fmt: str) -> int:
    """The inf.Dec path of ParseQuantity followed by Value()."""
    with localcontext() as ctx:
        ctx.prec = 2000
        try:
            amount = (
                Decimal(value.rstrip(".") or "0") if value not in ("", "+", "-") else Decimal(0)
            )
        except Exception:
            raise QuantityError("unable to parse numeric part of quantity") from None
        if base == 10:
            amount = amount.scaleb(exponent)
        else:
            amount = amount * (Decimal(2) ** exponent)
        negative = amount < 0
        amount = abs(amount)
        if amount == 0:
            return 0
        # round up to nano, i.e. an unscaled integer at scale 9
        unscaled = int((amount * Decimal(10) ** 9).to_integral_value(rounding="ROUND_CEILING"))
        scale = 9
        if fmt == BINARY_SI and unscaled > MAX_INT64 * 10**9:
            unscaled, scale = MAX_INT64, 0
        if negative:
            unscaled = -unscaled
        if scale == 0:
            return _wrap64(unscaled)
        divisor = 10**scale
        if unscaled < MAX_INT64:
            result = _go_div(unscaled, divisor)
            return result + 1 if _go_mod(unscaled, divisor) != 0 else result
        result, remainder = divmod(unscaled, divisor)
        low = _wrap64(result % (1 << 64))
        return low + 1 if remainder else low
