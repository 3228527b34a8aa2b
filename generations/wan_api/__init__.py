"""The one client of the hosted Wan 2.1 image-to-video API (Novita's "v3 async").

Requests in, typed outcomes out. It knows no models and reads no settings: the caller passes
the base URL, the key and the timeouts. Network trouble never raises: every call returns a
result whose outcome says what the caller may safely do next.

- contract.py: the parameters and their documented ranges, the submit body, the typed outcomes
  and results, and how a task-result answer is read.
- client.py: `WanClient` (submit, poll, download over HTTP) and how network trouble and HTTP
  answers map to those outcomes.

Callers import from here: `from generations import wan_api`.
"""

from .client import WanClient, describe, judge_video_answer, parse_retry_after, stream_video
from .contract import (
    ALLOWED_SIZES,
    DEFAULTS,
    FLOW_SHIFT_RANGE,
    GUIDANCE_SCALE_RANGE,
    LORA_PATH_MAX_CHARS,
    LORA_SCALE_RANGE,
    MAX_LORAS,
    PROMPT_MAX_CHARS,
    RESULT_PATH,
    SEED_RANGE,
    STEPS_RANGE,
    SUBMIT_PATH,
    DownloadOutcome,
    DownloadResult,
    InvalidParams,
    Lora,
    MalformedAnswer,
    PollOutcome,
    PollResult,
    ResultVideo,
    SubmitOutcome,
    SubmitParams,
    SubmitResult,
    TaskResult,
    TaskStatus,
    build_submit_body,
    is_web_url,
    lora_path_error,
    parse_task_result,
    text_error,
    validate_params,
)

__all__ = [
    "ALLOWED_SIZES",
    "DEFAULTS",
    "FLOW_SHIFT_RANGE",
    "GUIDANCE_SCALE_RANGE",
    "LORA_PATH_MAX_CHARS",
    "LORA_SCALE_RANGE",
    "MAX_LORAS",
    "PROMPT_MAX_CHARS",
    "RESULT_PATH",
    "SEED_RANGE",
    "STEPS_RANGE",
    "SUBMIT_PATH",
    "DownloadOutcome",
    "DownloadResult",
    "InvalidParams",
    "Lora",
    "MalformedAnswer",
    "PollOutcome",
    "PollResult",
    "ResultVideo",
    "SubmitOutcome",
    "SubmitParams",
    "SubmitResult",
    "TaskResult",
    "TaskStatus",
    "WanClient",
    "build_submit_body",
    "describe",
    "is_web_url",
    "judge_video_answer",
    "lora_path_error",
    "parse_retry_after",
    "parse_task_result",
    "stream_video",
    "text_error",
    "validate_params",
]
