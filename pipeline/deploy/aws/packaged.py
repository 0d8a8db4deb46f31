"""Where ``pipeline.packaging.app_packages`` leaves the two templates in a dist folder, so a run
can reuse a folder packaged earlier (``--dist``) instead of packaging again."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pipeline.packaging.app_packages import TEMPLATE_FILE


@dataclass(frozen=True)
class PackagedTemplates:
    pooled: Path
    silo: Path

    @classmethod
    def in_dist(cls, dist: Path) -> PackagedTemplates:
        folder = dist / "cloudformation"
        return cls(folder / "pooled" / TEMPLATE_FILE, folder / "silo" / TEMPLATE_FILE)

    def missing(self) -> list[Path]:
        return [path for path in (self.pooled, self.silo) if not path.is_file()]


def output_names(template_file: Path) -> list[str]:
    return list(json.loads(template_file.read_text()).get("Outputs", {}))
