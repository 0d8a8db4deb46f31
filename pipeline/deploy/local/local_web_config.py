"""``make web-config`` (TARGET=local): what the three web apps need from the running local
platform, as JSON on stdout (``pipeline.stacks.web_config``: by app, file and key), so it can be
written to a file and read by a script. The same values ``make local`` printed.

    python -m pipeline.deploy.local.local_web_config
"""

from __future__ import annotations

import json
import sys

from pipeline.local_cloud.local_platform import emulator_clients, local_web_config
from pipeline.local_cloud.state import NotRunning, StatePaths
from tenant_context.platform.definitions import SETTINGS_TABLE
from tenant_context.platform.platform_settings import read_settings


def main() -> int:
    try:
        state = StatePaths.from_environ().running()
    except NotRunning as error:
        print(error, file=sys.stderr)
        return 2
    settings = read_settings(emulator_clients(state["emulatorUrl"]).dynamodb, SETTINGS_TABLE.name)
    print(json.dumps(local_web_config(state, settings.operations_pool).by_app(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
