"""``make release``, ``make releases`` and ``make release-settings`` (``python -m
pipeline.release``): a release's id, and the rollout run on a target with its deployer."""
