"""``python -m coprod_sim``: the same as the ``coprod-sim`` command."""

import sys

from .cli import main

sys.exit(main())
