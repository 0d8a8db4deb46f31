"""Orders of one deployment's tenants (pooled or silo, by configuration)."""
