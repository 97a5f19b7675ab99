"""A worker with no Change Data Capture stream never loads gRPC or the generated messages."""

from __future__ import annotations

import subprocess
import sys

_CHECK = """
import sys
import salesync.sync.factory
loaded = [m for m in ("grpc", "salesync.pubsub_proto.pubsub_api_pb2") if m in sys.modules]
print(",".join(loaded))
"""


def test_building_blocks_of_a_worker_leave_grpc_unloaded() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _CHECK], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == ""
