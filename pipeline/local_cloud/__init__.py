"""The stand-in for AWS under ``make local``: the whole platform on loopback, offline.

- ``emulator``: moto in server mode (Cognito, DynamoDB, STS, IAM, CloudFormation), its state
  recorded and replayed;
- ``api_gateway``: what API Gateway does in front of the apps: ONE base URL per deployment (the
  front door), the shared authorizer in each app (``builtin_authorizer``) and before a route
  (``authorization``), and the tier usage plans;
- ``provisioning``: what CloudFormation and the tenant pipeline do in AWS: the pooled baseline
  and each Platinum tenant's own deployment brought up in the emulator;
- ``chalice_local``, ``processes``: the apps under ``chalice local``, started and stopped by pid;
- ``local_platform`` (``make local``), ``state`` (``.local/``), ``sign_in`` (``make token``),
  ``platform_runner`` (the platform as a child process, for tests and benchmarks).
"""
