"""``python -m seedance_jupyter.gateway``."""

from __future__ import annotations

from .app import main

__all__: list[str] = []

if __name__ == "__main__":
    main()
