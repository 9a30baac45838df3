"""A tiny OpenAI-compatible chat-completions server for tests: real HTTP, counted calls.

Answers deterministically from the prompt; ``fail_after`` makes it answer 500 once that
many calls have succeeded (a provider outage in the middle of a backfill).
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JudgeServer:
    def __init__(self) -> None:
        self.successes = 0
        self.failures = 0
        self.fail_after: int | None = None
        self.prompts: list[str] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    if server.fail_after is not None and server.successes >= server.fail_after:
                        server.failures += 1
                        self.send_response(500)
                        self.end_headers()
                        return
                    server.successes += 1
                    prompt = body["messages"][-1]["content"]
                    server.prompts.append(prompt)
                digest = int(hashlib.sha256(prompt.encode()).hexdigest(), 16)
                score = (digest % 100) / 100
                content = {
                    "score": score,
                    "label": "relevant" if score >= 0.5 else "off_topic",
                    "explanation": f"judged by {body['model']}",
                }
                reply = {
                    "choices": [{"message": {"content": json.dumps(content)}}],
                    "usage": {"total_tokens": len(prompt) // 4 + 20},
                }
                send_json(self, 200, json.dumps(reply).encode())

            def log_message(self, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> JudgeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def send_json(handler: BaseHTTPRequestHandler, status: int, data: bytes) -> None:
    """Answer a request with a JSON body."""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
