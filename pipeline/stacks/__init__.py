"""What each stack holds, rendered as CloudFormation: one stack per deployment.

- ``inventory``: what the pooled baseline and each deployment consist of (both targets);
- ``cloudformation``: the layer's definitions rendered as CloudFormation resources;
- ``service_template``: the merge template every API app gets from ``chalice package``;
- ``baseline_template``, ``pooled_template``, ``silo_template``: the parts of the pooled stack
  and of a Platinum tenant's stack; ``merge``: several apps' templates as ONE stack.
"""
