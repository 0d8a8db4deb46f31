"""``make new-service`` (``python -m pipeline.scaffold``): a new tenant service, ready to test.

A tenant service is a folder and ONE registry line (``tenant_context.tenant_services``); every
other part of the platform reads the registry. The scaffold writes both, all or nothing, after
checking its arguments against the registry's own rules, so what it writes loads, passes the
lint and the type check, and is served by ``make test``, ``make local`` and ``make package``
as it stands:

- ``arguments``: NAME, ITEM and ID, with their defaults, and everything wrong with them;
- ``sources`` and ``chalice_config``: the files, rendered from the registry entry and the
  definitions (never copied from another service);
- ``registry_entry``: the one line added to the registry;
- ``files``: writing them, all or nothing;
- ``cli``: the command.
"""
