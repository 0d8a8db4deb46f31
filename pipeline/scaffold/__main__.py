"""``python -m pipeline.scaffold --name N [--item I] [--id ID]`` (see ``pipeline.scaffold.cli``)."""

import sys

from pipeline.scaffold.cli import main

sys.exit(main())
