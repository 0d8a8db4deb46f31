"""``python -m pipeline.packaging layer|package [--out dist]``: ``make layer``, ``make package``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.packaging.app_packages import package
from pipeline.packaging.layer_zip import build_layer
from pipeline.packaging.tenant_pipeline_package import package_tenant_pipeline
from pipeline.project import PROJECT_ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the aws target's artifacts.")
    parser.add_argument("what", choices=["layer", "package"])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "dist")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.what == "layer":
        print(build_layer(args.out / "layer"))
    else:
        for template in [*package(args.out), package_tenant_pipeline(args.out)]:
            print(template)
    return 0


if __name__ == "__main__":
    sys.exit(main())
