"""schemathesis against the running studio: every operation of /api/schema/, with cases that
follow the description and cases that break it, sent with a token. No answer may be a server
error, or have a status code or a body the description does not give."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .live_studio import LiveStudio
from .support.pictures import picture_bytes

# The description and the views are the same on either store: the SQLite pass of make test
# runs this, and the PostgreSQL pass spends its minutes on the pipeline's real processes.
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")), reason="runs once, in the SQLite pass of make test"
    ),
]

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
# Per operation, in both modes. The coverage phase is left out: its thousand boundary cases
# take minutes here, and fuzzing in both modes reaches the same refusals.
MAX_EXAMPLES = 20
TIME_BUDGET_SECONDS = 90


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    live = LiveStudio(tmp_path_factory.mktemp("schemathesis"))
    live.start()
    yield live
    live.stop()


def test_every_operation_keeps_to_its_description(studio, tmp_path):
    made = [studio.create(f"schemathesis {n}", picture_bytes(640, 480)) for n in range(2)]
    studio.wait_for_terminal([row["id"] for row in made], timeout=60)

    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            studio.base_url + "/api/schema/",
            "--header",
            f"Authorization: Token {studio.token}",
            "--mode",
            "all",
            "--checks",
            CHECKS,
            "--max-examples",
            str(MAX_EXAMPLES),
            "--phases",
            "examples,fuzzing",
            "--seed",
            "1",
            "--workers",
            "2",
            "--request-timeout",
            "20",
            "--no-color",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=TIME_BUDGET_SECONDS + 60,
    )

    print(run.stdout[-6000:])
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-4000:]
