"""
Run the diagrams command line; see L{httpchart.diagrams.cli}.
"""

import sys

from .cli import main

sys.exit(main())
