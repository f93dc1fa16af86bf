"""``python -m bayescred.cli``."""

import sys

from bayescred.cli.main import main

sys.exit(main())
