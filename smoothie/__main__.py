from __future__ import annotations

import sys

from smoothie.cli import main

sys.exit(main())
