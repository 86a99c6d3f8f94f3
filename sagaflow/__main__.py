"""``python -m sagaflow``."""

from sagaflow.entry import main

main()
