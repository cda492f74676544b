"""Run a sweep from one TOML/JSON description (``jaxsoftmax sweep``; ``--help`` for options).

python experiments/sweep.py --example n_per_class --out results/n_per_class
"""

import sys

from jaxsoftmax.cli import entry

if __name__ == "__main__":
    entry(["sweep", *sys.argv[1:]])  # Ctrl-C: exit 130, as the command
