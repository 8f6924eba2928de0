"""Go's ``strconv`` integer parsing and Go's integer conversions.

``parse_uint``/``parse_int``/``atoi`` accept exactly what Go accepts (base prefixes and
underscores only with base 0) and fail with Go's ``*strconv.NumError`` text
(``strconv.ParseInt: parsing "x": value out of range``). Written by hand: Python's
``int()`` accepts other syntax (whitespace, ``0_1`` with base 10, Unicode digits).
:data:`GO_INT_RANGES` gives the range of each Go integer type by name.
"""

from __future__ import annotations

import math
from typing import Dict, Tuple

from runcore.gocompat.text import go_quote

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT32_MASK = (1 << 32) - 1
INT32_MAX = (1 << 31) - 1


class GoNumError(ValueError):
    """A strconv.NumError: ``strconv.<Func>: parsing "<num>": <reason>``."""

    def __init__(self, func: str, num: str, reason: str) -> None:
        self.func = func
        self.num = num
        self.reason = reason
        super().__init__(f"strconv.{func}: parsing {go_quote(num)}: {reason}")


SYNTAX = "invalid syntax"
RANGE = "value out of range"


def _lower(c: str) -> str:
    """ASCII-only lower-casing of one character, like strconv's lower()."""
    return chr(ord(c) | 0x20) if "A" <= c <= "Z" else c


def _underscore_ok(s: str) -> bool:
    """strconv.underscoreOK: underscores only between digits (base prefix counts as a digit)."""
    saw = "^"
    i = 0
    if s[:1] in ("-", "+"):
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and _lower(s[1]) in ("b", "o", "x"):
        i = 2
        saw = "0"
        hexa = _lower(s[1]) == "x"
    while i < len(s):
        c = s[i]
        if "0" <= c <= "9" or (hexa and "a" <= _lower(c) <= "f"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
        i += 1
    return saw != "_"


def parse_uint(s: str, base: int = 10, bit_size: int = 64, func: str = "ParseUint") -> int:
    """strconv.ParseUint; raises GoNumError with Go's exact text (bit_size 0 means 64)."""
    bit_size = bit_size or 64
    if s == "":
        raise GoNumError(func, s, SYNTAX)
    base0 = base == 0
    s0 = s
    if base == 0:
        base = 10
        if s[0] == "0":
            if len(s) >= 3 and _lower(s[1]) == "b":
                base, s = 2, s[2:]
            elif len(s) >= 3 and _lower(s[1]) == "o":
                base, s = 8, s[2:]
            elif len(s) >= 3 and _lower(s[1]) == "x":
                base, s = 16, s[2:]
            else:
                base, s = 8, s[1:]
    elif not 2 <= base <= 36:
        raise ValueError(f"invalid base {base}")
    max_val = (1 << bit_size) - 1
    n = 0
    underscores = False
    for c in s.encode("utf-8", "surrogateescape"):
        ch = chr(c)
        if ch == "_" and base0:
            underscores = True
            continue
        if "0" <= ch <= "9":
            d = c - 48
        elif "a" <= _lower(ch) <= "z":
            d = ord(_lower(ch)) - ord("a") + 10
        else:
            raise GoNumError(func, s0, SYNTAX)
        if d >= base:
            raise GoNumError(func, s0, SYNTAX)
        n = n * base + d
        if n > max_val:
            raise GoNumError(func, s0, RANGE)
    if underscores and not _underscore_ok(s0):
        raise GoNumError(func, s0, SYNTAX)
    return n


def parse_int(s: str, base: int = 10, bit_size: int = 64, func: str = "ParseInt") -> int:
    """strconv.ParseInt; raises GoNumError with Go's exact text (bit_size 0 means 64)."""
    bit_size = bit_size or 64
    if s == "":
        raise GoNumError(func, s, SYNTAX)
    neg = s[0] == "-"
    body = s[1:] if s[0] in "+-" else s
    try:
        un = parse_uint(body, base, bit_size, func)
    except GoNumError as exc:
        if exc.reason != RANGE:
            raise GoNumError(func, s, exc.reason) from None
        un = 1 << 64
    cutoff = 1 << (bit_size - 1)
    if (not neg and un >= cutoff) or (neg and un > cutoff):
        raise GoNumError(func, s, RANGE)
    return -un if neg else un


def parse_atoi(s: str) -> int:
    """strconv.Atoi (64-bit int); raises GoNumError naming ``Atoi``."""
    return parse_int(s, 10, 64, func="Atoi")


def atoi(s: str) -> Tuple[int, bool]:
    """strconv.Atoi on a 64-bit platform: (value, ok); a range error yields the clamped value, a syntax error 0."""
    if 0 < len(s) < 19:
        body = s[1:] if s[0] in "+-" else s
        if not body:
            return 0, False
        n = 0
        for ch in body:
            if not "0" <= ch <= "9":
                return 0, False
            n = n * 10 + (ord(ch) - 48)
        return (-n if s[0] == "-" else n), True
    # Slow path: ParseInt(s, 10, 64).
    if s == "":
        return 0, False
    neg = False
    body = s
    if s[0] in "+-":
        neg = s[0] == "-"
        body = s[1:]
    try:
        un = parse_uint(body, 10, 64)
    except GoNumError as exc:
        if exc.reason != RANGE:
            return 0, False
        un = (1 << 64) - 1
    cutoff = 1 << 63
    if not neg and un >= cutoff:
        return INT64_MAX, False
    if neg and un > cutoff:
        return INT64_MIN, False
    return (-un if neg else un), True


def to_uint32(v: int) -> int:
    """Go conversion uint32(v) of an integer (wraps modulo 2**32)."""
    return v & UINT32_MASK


def to_int64(v: int) -> int:
    """Go conversion int64(v) of an unsigned 64-bit integer (two's complement wrap)."""
    v &= (1 << 64) - 1
    return v - (1 << 64) if v > INT64_MAX else v


def float_to_int64(f: float) -> int:
    """Go conversion int64(f) on amd64: truncation; NaN/out-of-range give math.MinInt64."""
    if f != f or f >= 9.223372036854775807e18 or f < -9.223372036854775808e18:
        return INT64_MIN
    return int(f)


#: (minimum, maximum) of each Go integer type, by its Go name (``int`` and ``uint`` are 64-bit).
GO_INT_RANGES: Dict[str, Tuple[int, int]] = {
    **{f"int{n}": (-(1 << (n - 1)), (1 << (n - 1)) - 1) for n in (8, 16, 32, 64)},
    **{f"uint{n}": (0, (1 << n) - 1) for n in (8, 16, 32, 64)},
    "int": (INT64_MIN, INT64_MAX),
    "uint": (0, (1 << 64) - 1),
}


def parse_go_int(s: str, go_type: str, base: int = 10) -> int:
    """``s`` parsed as the Go integer type ``go_type`` (``ParseInt``/``ParseUint`` with its size)."""
    bits = int(go_type.lstrip("uint") or 64)
    if go_type.startswith("u"):
        return parse_uint(s, base, bits)
    return parse_int(s, base, bits)


def _float32(value: float) -> float:
    """``float32(value)`` as a Python float (round to nearest even; overflow → inf)."""
    import struct  # only when a float32 is formatted: keeps `runcore --help` light

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
