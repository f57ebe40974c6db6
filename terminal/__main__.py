"""`python -m terminal` and the `shrivenquant` console script."""
from __future__ import annotations

import logging
import os
import sys


def main() -> None:
    """Entry point of the console script.

    After the terminal's own orderly shutdown (tasks cancelled, connections and journal closed), the
    process ends with os._exit: Qt/shiboken objects collected during interpreter finalization can
    crash in C, and there is nothing left for that teardown to protect.
    """
    from .pyside_import_hook import skip_feature_scan

    skip_feature_scan()  # before the terminal's imports: each would have its source read by PySide
    from .app import main as run

    code = run()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
