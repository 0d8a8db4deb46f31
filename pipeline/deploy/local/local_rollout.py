"""The local target's deployer for a rollout (``make release``): what CloudFormation and a
canary do on AWS, done to the running ``make local``.

The pooled deployment: its definitions applied to the emulator again, then new processes with
the working tree's code for the admin and pooled services (``local_release.release_pooled``).
A Platinum deployment: its tables' stack applied through the emulator's CloudFormation and new
processes for its services, which take its route over before the old ones stop (the
platform's provisioner, asked for this deployment only). A deployment that runs nothing
(deactivated, or not up yet) starts on the working tree's code whenever it starts, so it has
taken the release already. Either way no request fails, and a deployment whose new processes
do not come up keeps serving with its old ones: the stack failed and says why.
"""

from __future__ import annotations

import io

from pipeline.deploy.local.local_release import (
    RELEASE_TIMEOUT_SECONDS,
    ReleaseError,
    release_deployments,
    release_pooled,
)
from pipeline.local_cloud.state import NotRunning, StatePaths
from pipeline.rollout.release_plan import Target
from pipeline.rollout.rollout import StackFailure
from tenant_context.platform.tenant_records import ReleaseResult
from tenant_context.tenancy import POOLED_DEPLOYMENT


class LocalDeployer:
    def __init__(self, paths: StatePaths, admin_email: str,
                 timeout: float = RELEASE_TIMEOUT_SECONDS) -> None:
        self._paths = paths
        self._admin_email = admin_email
        self._timeout = timeout

    def deploy(self, target: Target, release_id: str) -> ReleaseResult:
        steps = io.StringIO()  # the rollout prints one line per stack; the steps go in failures
        try:
            if target.deployment_id == POOLED_DEPLOYMENT:
                release_pooled(self._paths, self._admin_email, steps)
            else:
                release_deployments(self._paths, [target.deployment_id], self._timeout)
        except (ReleaseError, NotRunning) as error:
            raise StackFailure(f"{error} (the deployment keeps serving with its previous "
                               f"processes)") from error
        return ReleaseResult.DEPLOYED
