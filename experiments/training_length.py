"""How the training length decides the paper's comparison (``jaxsoftmax training-length``).

python experiments/training_length.py                          # 100 trials, to 10,000 steps
python experiments/training_length.py --trials 10 --lengths 20 50 100 --out results/tl
"""

import sys

from jaxsoftmax.cli import entry

if __name__ == "__main__":
    entry(["training-length", *sys.argv[1:]])  # Ctrl-C: exit 130, as the command
