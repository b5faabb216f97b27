"""
Run httpchart's command line; see L{httpchart.protocol.cli}.
"""

import sys

from .cli import main

sys.exit(main())
