"""The order service through the real app and authorizer. An order names the tenant's products, so
these tests drive both apps, and the tenant API's whole contract (products, then orders) is
checked here; what only the product service does is in ``tests/product_service``."""
