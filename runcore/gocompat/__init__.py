"""Go compatibility: values, texts and JSON exactly as Go (and so ctr) produces them.

ctr is written in Go; wherever runcore must read or print what ctr reads or prints it
uses this package instead of Python's own rules:

* :mod:`~runcore.gocompat.strconv` – ``ParseInt``/``ParseUint``/``Atoi`` with Go's
  ``*strconv.NumError`` texts, Go integer ranges and conversions;
* :mod:`~runcore.gocompat.text` – ``strconv.Quote``, errno texts, ``filepath.Clean``,
  ``bufio.Scanner`` lines;
* :mod:`~runcore.gocompat.url` – ``net/url.Parse`` and ``URL.String``;
* :mod:`~runcore.gocompat.json` – one schema type for Go structs, one strict
  case-folding decoder with ``encoding/json``'s errors, one ``omitempty``-aware
  marshaller that keeps Go's field order.

Every name of the former ``runcore.gocompat`` module stays importable from here.
Importing this package is cheap (standard library only).
"""

from __future__ import annotations

from runcore.gocompat.strconv import (
    GO_INT_RANGES,
    INT32_MAX,
    INT64_MAX,
    INT64_MIN,
    RANGE,
    SYNTAX,
    UINT32_MASK,
    GoNumError,
    atoi,
    float_to_int64,
    format_float_g,
    parse_atoi,
    parse_go_int,
    parse_int,
    parse_uint,
    to_int64,
    to_uint32,
)
from runcore.gocompat.text import (
    ERR_TOO_LONG,
    SCANNER_MAX_TOKEN,
    ScannerTooLong,
    clean,
    decode,
    errno_text,
    go_quote,
    is_space,
    join,
    path_error,
    scan_lines,
    trim_space,
)

__all__ = [
    "ERR_TOO_LONG",
    "GO_INT_RANGES",
    "INT32_MAX",
    "INT64_MAX",
    "INT64_MIN",
    "RANGE",
    "SCANNER_MAX_TOKEN",
    "SYNTAX",
    "UINT32_MASK",
    "GoNumError",
    "ScannerTooLong",
    "atoi",
    "clean",
    "decode",
    "errno_text",
    "float_to_int64",
    "format_float_g",
    "go_quote",
    "is_space",
    "join",
    "parse_atoi",
    "parse_go_int",
    "parse_int",
    "parse_uint",
    "path_error",
    "scan_lines",
    "to_int64",
    "to_uint32",
    "trim_space",
]
