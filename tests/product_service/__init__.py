"""The product service through the real app and authorizer: listing, versions, concurrency."""
