"""A live tenant's life after onboarding: moving it between the pool and its own deployment
(``tenant_move``, with ``item_copy`` doing the data). The same code on both targets: the local
platform runs requested moves, an operator's ``make migrate-tenant`` can too."""
