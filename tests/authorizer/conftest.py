"""Every test here gets the authorizer as production builds it, its collaborators observable
(``tests.support.authorizer_under_test``)."""

from __future__ import annotations

import pytest

from pipeline.local_cloud.provisioning.baseline_bootstrap import BaselineResult
from tests.support.authorizer_under_test import AuthorizerUnderTest, build


@pytest.fixture
def subject(baseline: BaselineResult) -> AuthorizerUnderTest:
    return build()
