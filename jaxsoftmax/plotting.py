"""matplotlib set-up and the one PNG writer (through :mod:`jaxsoftmax.io`). Needs the ``plot``
extra; imported only where a figure is drawn."""

from __future__ import annotations

import io as _io
from pathlib import Path

from . import io

__all__ = ["pyplot", "render", "save"]


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def render(fig, *, tight: bool = True) -> bytes:
    """``fig`` as PNG bytes (laid out once, 110 dpi); closes it."""
    plt = pyplot()
    if tight:
        fig.tight_layout()
    engine = fig.get_layout_engine()
    if engine is not None:  # lay out once, then save without a second layout draw
        engine.execute(fig)
        fig.set_layout_engine("none")
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def save(fig, path: Path, *, tight: bool = True) -> str:
    """Writes ``fig`` to ``path`` atomically (mode 0644); closes it; returns the file name."""
    io.write_bytes(path, render(fig, tight=tight))
    return Path(path).name
