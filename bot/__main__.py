"""``python -m bot`` runs the ``coupon-bot`` command."""

import sys

from bot.cli import main

sys.exit(main())
