"""Locust load test for an OpenAI-compatible server (`slipway llm serve`, vLLM, ...): streamed chat completions.

Not run in Slipway's tests (Locust is not installed there; the tests only byte-compile this file). For the
same load without Python, use `slipway loadtest` (see README.md). Usage, with `pip install locust`:

    locust -f examples/llm-serving/locustfile.py --host http://127.0.0.1:8000 \
        --users 8 --spawn-rate 8 --run-time 60s --headless

Each user streams chat completions (SSE) and reports two entries: the whole request (`POST chat stream`,
end to end) and time to first token (`TTFT chat stream`, a custom entry), so Locust's table and charts show
both. Environment: LLM_MODEL (default "tiny"), LLM_MAX_TOKENS (default 64).
"""

import json
import os
import time

from locust import HttpUser, between, events, task

MODEL = os.environ.get("LLM_MODEL", "tiny")
MAX_TOKENS = int(os.environ.get("LLM_MAX_TOKENS", "64"))


class StreamingChatUser(HttpUser):
    wait_time = between(0.0, 0.5)

    @task
    def stream_chat(self):
        body = {
            "model": MODEL,
            "messages": [{"role": "user", "content": "Tell me a short story about a river."}],
            "max_tokens": MAX_TOKENS,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        started = time.perf_counter()
        first_token_ms = None
        tokens = 0
        with self.client.post(
            "/v1/chat/completions", json=body, stream=True, catch_response=True, name="POST chat stream"
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return
            try:
                for line in response.iter_lines():
                    if not line.startswith(b"data: "):
                        continue
                    data = line[len(b"data: "):]
                    if data == b"[DONE]":
                        break
                    chunk = json.loads(data)
                    for choice in chunk.get("choices", []):
                        if (choice.get("delta") or {}).get("content"):
                            if first_token_ms is None:
                                first_token_ms = (time.perf_counter() - started) * 1000
                            tokens += 1
                    usage = chunk.get("usage")
                    if usage:
                        tokens = usage.get("completion_tokens", tokens)
            except (ValueError, OSError) as error:
                response.failure(f"stream error: {error}")
                return
            if first_token_ms is None:
                response.failure("no token in the stream")
                return
            response.success()
        # time to first token as its own entry: response_time is what Locust aggregates into percentiles
        events.request.fire(
            request_type="TTFT",
            name="chat stream",
            response_time=first_token_ms,
            response_length=tokens,
            exception=None,
            context={},
        )
