"""``python -m sagaflow``."""

from sagaflow.cli import main

main()
