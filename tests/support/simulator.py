"""Requests to the API simulator (wansim) as a client of the contract sends them."""

import requests

API_KEY = "sim-key"
# What each test starts from: quick tasks, no faults, no rate limit.
BASELINE = {
    "api_key": API_KEY,
    "queue_seconds": 0.1,
    "process_seconds": 0.3,
    "video_ttl": 3600,
    "submit_fault": "",
    "fail_rate": 0.0,
    "rate_limit_per_minute": 0,
    "fetch_timeout": 5.0,
    "hang_seconds": 60.0,
    "spread": 0.0,
    "webhook_fault": "",
    "webhook_delay": 0.5,
}
MISSING = object()  # a field left out of the body


def body(picture_host, picture="/landscape.png", **fields) -> dict:
    payload = {"prompt": "a lighthouse at dusk", "image_url": picture_host.url(picture)}
    payload.update(fields)
    return {name: value for name, value in payload.items() if value is not MISSING}


def submit(sim, payload, key=API_KEY, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return requests.post(
        f"{sim.base_url}/v3/async/wan-i2v", json=payload, headers=headers, **kwargs
    )


def poll(sim, task_id, key=API_KEY) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return requests.get(
        f"{sim.base_url}/v3/async/task-result", params={"task_id": task_id}, headers=headers
    )
