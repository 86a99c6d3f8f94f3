"""``python -m sagaflow``."""

from sagaflow.cli.main import main

main()
