"""matplotlib set-up and the one PNG writer (through :mod:`jaxsoftmax.io`). Needs the ``plot``
extra; imported only where a figure is drawn."""

from __future__ import annotations

import io as _io
from pathlib import Path

from . import io

__all__ = ["pyplot", "save"]


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: Path, *, tight: bool = True) -> str:
    """Writes ``fig`` to ``path`` atomically (mode 0644); closes it; returns the file name."""
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
    io.write_bytes(path, buf.getvalue())
    return Path(path).name
