"""Worker processes for the PostgreSQL multi-process tests (run as a script).

    python postgres_worker.py open URL START_AT          # open (migrating), print version
    python postgres_worker.py insert URL WORKER N START_AT   # N single inserts

``START_AT`` is a ``time.time()`` value every worker waits for, so that they really
start together. Prints one JSON line with the outcome; exits 1 on any error.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta

from netsky_core import Event, EventSource, EventType, open_storage

T0 = datetime(2026, 3, 1, tzinfo=UTC)
TYPES = [
    EventType.SESSION_START,
    EventType.USER_PROMPT_SUBMIT,
    EventType.PRE_TOOL_USE,
    EventType.POST_TOOL_USE,
    EventType.API_REQUEST,
    EventType.STOP,
]


def worker_event(worker: int, i: int) -> Event:
    """Event ``i`` of ``worker``: 12 sessions on 2 machines shared by every worker."""
    et = TYPES[(i + worker) % len(TYPES)]
    api = et == EventType.API_REQUEST
    prompt = et == EventType.USER_PROMPT_SUBMIT
    payload = json.dumps({"prompt": f"p{worker}-{i}"}) if prompt else None
    return Event(
        machine_id=f"m{(i // 12) % 2}",
        session_id=f"s{i % 12}",
        event_type=et,
        timestamp=T0 + timedelta(milliseconds=i * 7 + worker),
        uuid=f"w{worker}-{i}",
        source=EventSource.TRANSCRIPT if api else EventSource.HOOK,
        framework="claude",
        pid=1000 + worker,
        cwd=f"/w/{worker}",
        tokens_input=i % 11 if api else None,
        tokens_output=i % 13 if api else None,
        cost_usd=0.001 * (i % 5) if api else None,
        payload=payload,
    )


def main(argv: list[str]) -> int:
    command, url = argv[0], argv[1]
    start_at = float(argv[-1])
    time.sleep(max(0.0, start_at - time.time()))
    try:
        if command == "open":
            with open_storage(url) as store:
                print(json.dumps({"version": store.schema_version}))
            return 0
        worker, n = int(argv[2]), int(argv[3])
        errors = 0
        with open_storage(url) as store:
            for i in range(n):
                try:
                    store.insert(worker_event(worker, i))
                except Exception as exc:
                    errors += 1
                    print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(json.dumps({"worker": worker, "errors": errors}))
        return 1 if errors else 0
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
