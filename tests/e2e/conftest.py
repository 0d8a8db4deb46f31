"""One platform shared by the e2e tests that need no platform of their own (a start costs
seconds): those that restart it, release it or meter it start their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipeline.local_cloud.platform_runner import RunningPlatform, running_platform
from pipeline.local_cloud.processes import free_port
from tests.support.signup_settings import MANY_SIGNUPS


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    # The suites sharing it register many tenants (the fuzz test alone dozens): raised limits.
    with running_platform(tmp_path_factory.mktemp("platform"), free_port(),
                          free_port(), environment=MANY_SIGNUPS) as running:
        yield running
