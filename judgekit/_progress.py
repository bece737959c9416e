"""Progress bars: one place that decides when a bar shows and how.

A bar shows where someone is watching: on a terminal, and in a notebook
(a Jupyter / IPython kernel, whose stderr is never a terminal, so a TTY
test alone hid every bar there).  Elsewhere (a log file, CI) it is silent
unless the caller forces it.  ``tqdm.auto`` draws a widget in a notebook
(plain text there without ipywidgets) and text on a terminal; given a
total, the bar shows done/total, the elapsed time and the time left.
"""
from __future__ import annotations

import sys
from typing import Any, TextIO

__all__ = ["bar", "in_notebook", "interactive"]


def in_notebook() -> bool:
    """Whether this process is a notebook kernel (Jupyter, JupyterLab,
    VS Code, Colab: an ipykernel shell), not a plain IPython terminal."""
    if "ipykernel" not in sys.modules:  # only a kernel has imported it
        return False
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if get is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def interactive(stream: TextIO | None = None) -> bool:
    """Whether a person watches ``stream`` (default stderr): a terminal, or a notebook."""
    stream = sys.stderr if stream is None else stream
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        tty = False
    return tty or in_notebook()


def bar(total: int | None, desc: str, unit: str, *, show: bool | None = None, leave: bool = True) -> Any:
    """A ``tqdm.auto`` bar.  ``show``: None shows it where ``interactive()``,
    True always (on stderr), False never (a disabled bar: updates cost
    nothing).  ``total`` None when unknown (then no time left is shown)."""
    from tqdm.auto import tqdm

    enabled = interactive() if show is None else bool(show)
    return tqdm(total=total, desc=desc, unit=unit, leave=leave, disable=not enabled, file=sys.stderr)
