"""Tenant management: the control plane's records of tenants.

Lives in a uniquely named package under a namespace ``chalicelib`` (no ``__init__.py``), so
several apps can be loaded in one process (tests, tools) without their modules clashing.
"""
