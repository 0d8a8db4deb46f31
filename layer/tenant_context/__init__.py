"""Tenant-context helpers shared by every function of the platform (shipped as ONE Lambda layer).

Import the module you need (``tenant_context.context``, ``tenant_context.storage``, ...): this
package does no work at import time, so a function pays only for what it uses on a cold start.
"""
