"""``python -m reciprocity_utils``: the same command as ``reciprocity``."""

import sys

from .cli import main

sys.exit(main())
