"""Small helpers that render values the way Go's fmt/strconv/errors do.

goresctrl builds its messages with ``%#v`` (Go-syntax quoting of strings), ``%v`` of
string slices and hashicorp/go-multierror lists; the helpers here produce the same text.
"""

from __future__ import annotations

from typing import Iterable, Sequence

# re-exported: goresctrl's messages use the same Go quoting and errno texts as ctr's
from runcore.api import errno_text, path_error  # noqa: F401
from runcore.api import format_float_g  # noqa: F401  (strconv.FormatFloat(v, 'g', -1, bits))
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
