"""The rollout plan from the rows alone: pooled first, waves by number with unnumbered rows
last, pinned and current rows skipped, and a table that is not ours refused whole."""

from __future__ import annotations

import pytest

from pipeline.rollout.release_plan import PlanError, Skip, plan_rollout
from tenant_context.platform.deployments import stack_name
from tenant_context.platform.tenant_records import (
    DeploymentRecord,
    ReleaseResult,
    ReleaseState,
)
from tenant_context.tenancy import POOLED_DEPLOYMENT


def row(deployment_id: str, *, wave: int | None = None, follows: bool = True,
        release: str = "", result: ReleaseResult | None = None) -> DeploymentRecord:
    return DeploymentRecord(deployment_id, stack_name(deployment_id), frozenset({"a"}), "u",
                            release=ReleaseState(release_id=release, result=result, wave=wave,
                                                 apply_latest_release=follows))


def tenant(n: int) -> str:
    return f"{n:032x}"


def test_pooled_first_then_numbered_waves_then_the_last_wave() -> None:
    rows = [row(POOLED_DEPLOYMENT, release="r1"), row(tenant(5), wave=2),
            row(tenant(3)), row(tenant(1), wave=1), row(tenant(2), wave=1), row(tenant(4))]
    plan = plan_rollout(rows, "r2")
    assert plan.pooled is not None
    assert (plan.pooled.stack, plan.pooled.from_release) == ("stack-pooled", "r1")
    assert [(wave.number, [target.deployment_id for target in wave.targets])
            for wave in plan.waves] == [(1, [tenant(1), tenant(2)]), (2, [tenant(5)]),
                                        (3, [tenant(3), tenant(4)])]
    assert plan.skipped == ()
    assert plan.lines()[0] == "Release r2:"


def test_pinned_and_current_rows_are_skipped_and_a_failed_attempt_is_retried() -> None:
    rows = [row(POOLED_DEPLOYMENT, release="r2", result=ReleaseResult.DEPLOYED),
            row(tenant(1), follows=False, release="r1"),
            row(tenant(2), release="r2", result=ReleaseResult.UNCHANGED),
            row(tenant(3), release="r2", result=ReleaseResult.FAILED)]
    plan = plan_rollout(rows, "r2")
    assert plan.pooled is None  # already on r2
    assert [(skipped.row.deployment_id, skipped.why) for skipped in plan.skipped] == [
        (tenant(1), Skip.PINNED), (tenant(2), Skip.CURRENT)]
    assert [target.deployment_id for target in plan.targets] == [tenant(3)]
    # The same release again, once everything took it, has nothing to do.
    done = plan_rollout([row(POOLED_DEPLOYMENT, release="r2"), row(tenant(3), release="r2")],
                        "r2")
    assert done.targets == []


@pytest.mark.parametrize(("rows", "release", "said"), [
    ([row(tenant(1))], "r1", "no pooled row"),
    ([row(POOLED_DEPLOYMENT), row("not-a-tenant")], "r1", "'not-a-tenant'"),
    ([row(POOLED_DEPLOYMENT)], "", "no release id"),
])
def test_a_table_that_is_not_ours_or_no_release_is_refused(
        rows: list[DeploymentRecord], release: str, said: str) -> None:
    with pytest.raises(PlanError, match=said):
        plan_rollout(rows, release)
