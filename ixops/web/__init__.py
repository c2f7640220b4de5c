"""The page `ixops serve` sends to browsers (``app_index.html``): textual-serve's own, made
self-contained: no Google Fonts or any other outside address, and a CJK-capable font stack from
the machine's own fonts, so Chinese shows in a machine room that reaches nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Final

TEMPLATES: Final = Path(__file__).parent
