"""Per-tenant usage for operators and billing: the usage report and the billing export."""
