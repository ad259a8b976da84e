"""A thread of `livetally up` that dies ends its process (a supervisor restarts it)."""

from __future__ import annotations

import subprocess
import sys

from tests.servers import ROOT


def test_a_dying_thread_ends_the_process_with_an_error_code() -> None:
    code = (
        "import time\n"
        "from service.process.http_limits import start_fatal_thread\n"
        "def boom():\n    raise RuntimeError('the API loop died')\n"
        "start_fatal_thread(boom, 'livetally-api')\n"
        "time.sleep(10)\n"
        "raise SystemExit(0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=20
    )
    assert result.returncode == 70
    assert "thread livetally-api died" in result.stderr
