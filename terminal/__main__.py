"""`python -m terminal` and the `shrivenquant` console script."""
from __future__ import annotations

import sys


def main() -> None:
    """Entry point of the console script."""
    from .app import main as run

    sys.exit(run())


if __name__ == "__main__":
    main()
