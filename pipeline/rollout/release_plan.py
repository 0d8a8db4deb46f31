"""Which deployments a release reaches, in which order: the rollout's plan, from the
tenant-stack-mapping rows alone.

The pooled deployment goes first (every pooled tenant at once, through its own canary): a
release that breaks it stops before any Platinum tenant is touched. Then the Platinum tenants'
own deployments, wave by wave: staff give a row a wave number (the first wave is usually a few
canary tenants); a row without one is in the last wave, where new tenants land. A row pinned
by staff (``applyLatestRelease`` false) is skipped and keeps its release; a row already on the
release is skipped too (a repeated rollout is a no-op). The same plan drives every target:
the AWS state machine's planning task, the local rollout and the dry run's printout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tenant_context.platform.deployments import stack_name
from tenant_context.platform.tenant_records import DeploymentRecord, ReleaseResult
from tenant_context.tenancy import POOLED_DEPLOYMENT, is_tenant_id


class PlanError(ValueError):
    """A plan that must not start (nothing has been deployed)."""


class Skip(StrEnum):
    PINNED = "pinned"  # applyLatestRelease false: staff keep it on its release
    CURRENT = "current"  # already runs this release


@dataclass(frozen=True)
class Target:
    """One deployment the rollout deploys."""

    row: DeploymentRecord
    wave: int  # 0 is the pooled deployment

    @property
    def deployment_id(self) -> str:
        return self.row.deployment_id

    @property
    def stack(self) -> str:
        return self.row.stack_name or stack_name(self.row.deployment_id)

    @property
    def from_release(self) -> str:
        return self.row.release.release_id or "-"


@dataclass(frozen=True)
class Skipped:
    row: DeploymentRecord
    why: Skip


@dataclass(frozen=True)
class Wave:
    number: int
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class RolloutPlan:
    release_id: str
    pooled: Target | None  # None: the pooled deployment already runs the release
    waves: tuple[Wave, ...]
    skipped: tuple[Skipped, ...]

    @property
    def targets(self) -> list[Target]:
        return [*([self.pooled] if self.pooled else []),
                *(target for wave in self.waves for target in wave.targets)]

    def lines(self) -> list[str]:
        """The plan as an operator reads it before anything runs."""
        lines = [f"Release {self.release_id}:"]
        lines.append(f"  pooled   {self.pooled.stack} ({self.pooled.from_release} -> "
                     f"{self.release_id})" if self.pooled else
                     "  pooled   already on this release")
        for wave in self.waves:
            lines.append(f"  wave {wave.number}   {len(wave.targets)} stack"
                         f"{'' if len(wave.targets) == 1 else 's'}: "
                         + ", ".join(target.stack for target in wave.targets))
        for why in Skip:
            rows = [skipped.row for skipped in self.skipped if skipped.why is why]
            if rows:
                lines.append(f"  skipped  {len(rows)} {why.value}: "
                             + ", ".join(row.stack_name for row in rows))
        return lines


def _current(row: DeploymentRecord, release_id: str) -> bool:
    return row.release.release_id == release_id and \
        row.release.result is not ReleaseResult.FAILED


def plan_rollout(rows: Sequence[DeploymentRecord], release_id: str) -> RolloutPlan:
    """The plan for ``release_id`` over every row. A row that is not a deployment we know
    (no pooled row, a key that is not a tenant id) stops the plan: a table someone edited by
    hand must be looked at before a fleet is deployed from it."""
    if not release_id:
        raise PlanError("no release id")
    by_id = {row.deployment_id: row for row in rows}
    pooled = by_id.pop(POOLED_DEPLOYMENT, None)
    if pooled is None:
        raise PlanError(f"no {POOLED_DEPLOYMENT} row: deploy the pooled stack first "
                        f"(make deploy-pooled)")
    malformed = sorted(key for key in by_id if not is_tenant_id(key))
    if malformed:
        raise PlanError(f"rows that are neither {POOLED_DEPLOYMENT} nor a tenant id: "
                        f"{', '.join(map(repr, malformed))} (fix or remove them; nothing "
                        f"was deployed)")
    skipped = [Skipped(row, Skip.PINNED) for row in by_id.values()
               if not row.release.apply_latest_release]
    skipped += [Skipped(row, Skip.CURRENT) for row in by_id.values()
                if row.release.apply_latest_release and _current(row, release_id)]
    waiting = sorted((row for row in by_id.values() if row.release.apply_latest_release
                      and not _current(row, release_id)), key=lambda row: row.deployment_id)
    numbered = sorted({row.release.wave for row in waiting if row.release.wave is not None})
    last = (numbered[-1] + 1) if numbered else 1
    waves = []
    for number in [*numbered, last]:
        targets = tuple(Target(row, number) for row in waiting
                        if (row.release.wave if row.release.wave is not None else last)
                        == number)
        if targets:
            waves.append(Wave(number, targets))
    return RolloutPlan(release_id,
                       None if _current(pooled, release_id) else Target(pooled, 0),
                       tuple(waves), tuple(sorted(skipped, key=lambda s: s.row.deployment_id)))
