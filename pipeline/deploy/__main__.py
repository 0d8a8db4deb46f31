"""``python -m pipeline.deploy pooled|tenant|tenants ...`` (see ``pipeline.deploy.cli``)."""

import sys

from pipeline.deploy.cli import main

sys.exit(main())
