"""What an operator reads after a rollout and before the next: the rollout's final table, and
the fleet's table (``make releases``: what each deployment runs now)."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.rollout.release_plan import Target
from pipeline.rollout.rollout import RolloutReport
from tenant_context.platform.tenant_records import DeploymentRecord
from tenant_context.tenancy import POOLED_DEPLOYMENT


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns as wide as their widest cell; the last one is left ragged."""
    widths = [max(len(row[column]) for row in [header, *rows])
              for column in range(len(header) - 1)]

    def line(row: Sequence[str]) -> str:
        *padded, last = row
        return "  ".join([*(cell.ljust(width) for cell, width in zip(padded, widths,
                                                                       strict=True)), last])

    return [line(header), *(line(row) for row in rows)]


def _wave(target: Target) -> str:
    return "pooled" if target.wave == 0 else str(target.wave)


def rollout_lines(report: RolloutReport) -> list[str]:
    outcomes = sorted(report.outcomes, key=lambda outcome: (outcome.target.wave,
                                                            outcome.target.stack))
    rows = [(outcome.target.stack, _wave(outcome.target), outcome.target.from_release,
             report.release_id, outcome.result,
             f"{outcome.seconds:.1f} s" if outcome.seconds else "-") for outcome in outcomes]
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.result] = counts.get(outcome.result, 0) + 1
    summary = ", ".join(f"{count} {result}" for result, count in counts.items())
    lines = [f"Release {report.release_id}: {summary or 'nothing to deploy'} "
             f"in {report.seconds:.1f} s"]
    if rows:
        lines += table(("stack", "wave", "from-release", "to-release", "result", "duration"),
                       rows)
    if report.stopped:
        lines.append(f"STOPPED: {report.stopped}")
    return lines


def fleet_lines(rows: Sequence[DeploymentRecord]) -> list[str]:
    """Every deployment with the release it runs, the pooled one first."""
    ordered = sorted(rows, key=lambda row: (row.deployment_id != POOLED_DEPLOYMENT,
                                            row.release.wave is None, row.release.wave or 0,
                                            row.deployment_id))
    cells = [(row.deployment_id, row.stack_name, row.status.value, row.desired_state.value,
              "-" if row.deployment_id == POOLED_DEPLOYMENT else
              str(row.release.wave) if row.release.wave is not None else "last",
              "yes" if row.release.apply_latest_release else "PINNED",
              row.release.release_id or "-",
              (row.release.result.value if row.release.result else "-")
              + (f" ({row.release.failure})" if row.release.failure else ""),
              row.release.released_at or "-") for row in ordered]
    return table(("deployment", "stack", "status", "desired", "wave", "follows", "release",
                  "last result", "at"), cells)
