"""The front door's hand-off is a second way into the apps, so it exists only in the local
stand-in: nothing ``make package`` ships (every function's zip and the layer, as packaged into
``dist/``) holds code that trusts it (no local stand-in module, nothing naming its header or its
seal), or reads its secret (whose name only the list of variable names holds). Docstrings may
still point at the stand-in's ``builtin_authorizer``, which is not shipped."""

from __future__ import annotations

import zipfile

from pipeline.local_cloud.api_gateway import handoff
from pipeline.local_cloud.api_gateway.handoff import HANDOFF_HEADER
from tenant_context.config import Env
from tests.support.packaged import Packaged

# Where the secret's NAME may appear: the one list of variable names (nothing there reads it).
NAMED_ONLY_IN = ("tenant_context/config.py", "tenant_context/__pycache__/config.")


def test_no_packaged_zip_holds_the_hand_off(packaged: Packaged) -> None:
    zips = sorted(packaged.out.rglob("*.zip"))
    assert {path.parent.name for path in zips} >= {"pooled", "silo", "layer"}
    local_only = ("pipeline/", "python/pipeline/")
    module = handoff.__name__.rsplit(".", 1)[1]
    secret_name = Env.LOCAL_GATEWAY_HANDOFF_SECRET.lower().encode()
    scanned = 0
    for path in zips:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                scanned += 1
                where = f"{path.name}:{name}"
                assert not name.startswith(local_only), where
                assert f"/{module}." not in name, where
                assert "builtin_authorizer" not in name, where
                content = archive.read(name).lower()
                assert HANDOFF_HEADER.lower().encode() not in content, where
                if secret_name in content:
                    assert any(part in name for part in NAMED_ONLY_IN), where
                    content = content.replace(secret_name, b"")
                assert b"handoff" not in content, where  # HandOff, ForgedHandOffError, handoff.py
    assert scanned > 1000  # the layer's dependencies included
