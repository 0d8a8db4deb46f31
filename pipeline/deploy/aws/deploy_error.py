"""The one error type of the aws deployer, so the CLI reports every failure the same way (one
readable line, exit code 1) whichever step it came from."""

from __future__ import annotations


class DeployError(Exception):
    """A deployment step failed; the message is written for the operator, not for a log."""
