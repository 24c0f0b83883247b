"""Entry point of ``python3 -m nnft`` (see nnft.cli)."""

import sys

from nnft.cli import main

if __name__ == "__main__":
    sys.exit(main())
