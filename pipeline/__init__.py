"""Deployments: the resource definitions rendered for two targets.

- ``pipeline.local``: the local platform (emulator, bootstrap, ``chalice local`` services and
  the front door that gives each deployment one base URL).
- ``pipeline.cloudformation`` / ``pipeline.packaging``: the same definitions as CloudFormation,
  merged into ``chalice package`` output for the aws target.
"""
