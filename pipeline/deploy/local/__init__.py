"""The local target's deployer: the three make commands against the running ``make local``
(``local_release``: a release of the working tree's code; ``local_onboarding``: a tenant
registered through the local admin API)."""
