"""``python -m jaxsoftmax …``: the same as the ``jaxsoftmax`` command."""

from jaxsoftmax.cli import entry

entry()
