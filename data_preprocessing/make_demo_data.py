"""``python -m data_preprocessing.make_demo_data`` is kept as an alias of ``python -m synthetic.make_demo_data`` for
one release: the synthetic street renderer moved to the ``synthetic`` package."""

from __future__ import annotations

import sys

from synthetic.make_demo_data import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
