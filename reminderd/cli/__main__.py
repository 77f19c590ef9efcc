"""``python -m reminderd.cli``: the same as ``reminderd``."""

import sys

from reminderd.cli import main

sys.exit(main())
