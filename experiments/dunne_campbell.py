"""Reproduce Dunne & Campbell (1997), section 4.1 — the paper's experiment on its defaults.

A thin script over the installed command ``jaxsoftmax reproduce`` (all options are the
same; ``--help`` lists them):

    python experiments/dunne_campbell.py                        # the paper's set-up
    python experiments/dunne_campbell.py --trials 10 --training.steps 300 --out results/quick
"""

import sys

from jaxsoftmax.cli import entry

if __name__ == "__main__":
    entry(["reproduce", *sys.argv[1:]])  # Ctrl-C: exit 130, as the command
