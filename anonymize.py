"""Anonymize people in full street frames: ``python anonymize.py -i FRAMES -a ANNOTATIONS -o OUT [--method gan]``.

See anonymizer/cli.py for the flags (``--help``) and anonymizer/frame.py for how frames are processed.
"""

from __future__ import annotations

import sys

from anonymizer.cli import main

if __name__ == "__main__":
    sys.exit(main())
