"""``python -m jaxsoftmax.derivations``: see :mod:`jaxsoftmax.derivations.cli` (``main(argv)``)
for the options."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
