"""``python -m reminderd``: the same as the ``reminderd`` command."""

import sys

from reminderd.cli import main

sys.exit(main())
