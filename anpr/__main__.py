"""`python -m anpr` and the `anpr` console script."""

import sys

from anpr.cli import main

if __name__ == "__main__":
    sys.exit(main())
