"""Regenerates README.md's tables from the committed runs (see jaxsoftmax/cli/readme.py)."""

import sys
from pathlib import Path

from jaxsoftmax.cli import readme

if __name__ == "__main__":
    changed = readme.update(Path(__file__).resolve().parents[1])
    print("README.md updated" if changed else "README.md is up to date")
    sys.exit(0)
