"""The process entry (console script and ``python -m runcore``).

A help request whose text is kept (:mod:`runcore.cli.help_cache`) is answered before
click, pluggy or any plugin is imported; everything else runs the command line
(:func:`runcore.cli.main.entry`).
"""

from __future__ import annotations

import os
import sys


def entry() -> None:
    """Print kept help text for these arguments, or run the command line."""
    from runcore.cli import help_cache

    text = help_cache.lookup(sys.argv[1:])
    if text is not None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            os._exit(141)
        os._exit(0)
    from runcore.cli.main import entry as run_command_line

    run_command_line()
