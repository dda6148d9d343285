"""The client needs neither the server's framework nor the UI: a `wm` without the `serve`
extra can be a client of a team's aggregator."""

from __future__ import annotations

import json
import subprocess
import sys


def test_the_backend_imports_no_server_framework_and_no_textual() -> None:
    code = (
        "import sys, json, winged_monkey_aggregator.backend\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert "httpx" in loaded
    assert not loaded & {"fastapi", "starlette", "uvicorn", "textual", "libcloud"}
