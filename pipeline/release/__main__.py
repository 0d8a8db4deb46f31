import sys

from pipeline.release.cli import main

sys.exit(main())
