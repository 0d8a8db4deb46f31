"""One app instance serving two tenants' requests on concurrent threads, as ``chalice local``
does (a Lambda container serves one request at a time): every answer is the caller's own.

Chalice keeps ``app.current_request`` on the shared app object; a view reading it on one thread
could act on the request another thread just received (another tenant's). The thread switch
interval is made tiny so that such a window would be hit within a few hundred requests.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.chalice_apps import load_app
from tests.support.tenant_api import ConcurrentCaller, Customer

REQUESTS = 300


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def test_concurrent_requests_of_two_tenants_never_mix(customers: dict[str, Customer],
                                                       frequent_thread_switches: None) -> None:
    tenants = [customers["A"], customers["B"]]
    for customer in tenants:
        created = customer.api.call("POST", "/product", customer.token,
                                    {"name": customer.tenant.tenant_id, "price": 1})
        assert created.status_code == 201
    call = ConcurrentCaller(load_app("product_service"))

    def list_products(request: int) -> tuple[str, int, list[str]]:
        me = tenants[request % 2]
        response = call("GET", "/products", me.token)
        return me.tenant.tenant_id, response.status_code, [
            product["name"] for product in response.json_body or []]

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(list_products, range(REQUESTS)))
    assert all(status == 200 for _, status, _ in answers)
    mixed = [(tenant, names) for tenant, _, names in answers if names != [tenant]]
    assert mixed == []
