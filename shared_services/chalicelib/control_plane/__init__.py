"""The control plane: registration, tenant management, user management, provisioning.

A uniquely named package under a namespace ``chalicelib`` (no ``__init__.py`` there), so the
platform's apps can be loaded in one process (tests, tools) without their modules clashing.
"""
