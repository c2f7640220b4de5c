from __future__ import annotations

from ixops.cli import main

main()
