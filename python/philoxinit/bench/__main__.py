"""``python -m philoxinit.bench``: the same command as ``python -m philoxinit bench``."""

import sys

from ._cli import main

sys.exit(main())
