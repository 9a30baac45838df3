"""The judge client over real local HTTP: the request it sends, the answers it accepts, the
retries, and failures that name the endpoint but never the API key."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipelines.errors import AflError
from pipelines.evaluators.judge import SYSTEM_PROMPT, JudgeClient, JudgeError, JudgeVerdict
from tests.support.judge_server import JudgeServer, send_json
from tests.support.services import free_port

SECRET = "sk-test-5f1c0ffee"
PROMPT = "Question from the user:\nWhere is my refund?\n\nAnswer given by the agent:\nTomorrow."


def _completion(content: object, **extra: object) -> bytes:
    text = content if isinstance(content, str) else json.dumps(content)
    return json.dumps({"choices": [{"message": {"content": text}}], **extra}).encode()


class ScriptedJudge:
    """Answers each POST with the next (status, body) of its script; records what it got
    (path, headers by lower-case name, JSON body)."""

    def __init__(self, *script: tuple[int, bytes]) -> None:
        self.script = list(script)
        self.requests: list[tuple[str, dict[str, str], dict[str, object]]] = []
        judge = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                headers = {k.lower(): v for k, v in self.headers.items()}
                judge.requests.append((self.path, headers, body))
                send_json(self, *judge.script.pop(0))

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True).start()

    def client(self, max_retries: int = 3) -> JudgeClient:
        return JudgeClient(
            self.url + "/", "judge-small", api_key=SECRET, max_retries=max_retries, backoff_s=0.0
        )


@pytest.fixture
def serve() -> Iterator[Callable[..., ScriptedJudge]]:
    """Start a scripted judge; every one started is stopped after the test."""
    started: list[ScriptedJudge] = []

    def start(*script: tuple[int, bytes]) -> ScriptedJudge:
        started.append(ScriptedJudge(*script))
        return started[-1]

    yield start
    for judge in started:
        judge.server.shutdown()
        judge.server.server_close()


GOOD = _completion(
    {"score": 0.8, "label": "relevant", "explanation": "It answers the question."},
    usage={"prompt_tokens": 90, "completion_tokens": 21, "total_tokens": 111},
)


def test_the_request_is_one_chat_completion_with_the_system_prompt_and_a_bearer_token(serve):
    judge = serve((200, GOOD))
    verdict = judge.client().judge(PROMPT)
    assert verdict == JudgeVerdict(0.8, "relevant", "It answers the question.", 111)
    [(path, headers, body)] = judge.requests
    assert path == "/v1/chat/completions"  # the base URL's trailing slash is not doubled
    assert headers["authorization"] == f"Bearer {SECRET}"
    assert headers["content-type"] == "application/json"
    assert body == {
        "model": "judge-small",
        "temperature": 0,
        "response_format": {"type": "json_object"},
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": PROMPT},
        ],
    }


def test_without_an_api_key_no_authorization_header_is_sent(serve):
    judge = serve((200, GOOD))
    JudgeClient(judge.url, "judge-small").judge(PROMPT)
    [(_, headers, _)] = judge.requests
    assert "authorization" not in headers


def test_the_test_suites_judge_server_is_answered_deterministically():
    with JudgeServer() as server:
        verdict = JudgeClient(server.url, "judge-test").judge(PROMPT)
    score = (int(hashlib.sha256(PROMPT.encode()).hexdigest(), 16) % 100) / 100
    assert verdict == JudgeVerdict(
        score=score,
        label="relevant" if score >= 0.5 else "off_topic",
        explanation="judged by judge-test",
        tokens=len(PROMPT) // 4 + 20,
    )
    assert server.prompts == [PROMPT]


def test_an_answer_without_explanation_or_usage_takes_defaults(serve):
    judge = serve((200, _completion({"score": 1, "label": "ok"})))
    assert judge.client().judge(PROMPT) == JudgeVerdict(1.0, "ok", "", 0)


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        pytest.param(
            json.dumps({"choices": []}).encode(), "list index out of range", id="no choice"
        ),
        pytest.param(json.dumps({"id": "x"}).encode(), "'choices'", id="no choices"),
        pytest.param(
            _completion("The answer is relevant."),
            "Expecting value: line 1 column 1 (char 0)",
            id="prose",
        ),
        pytest.param(_completion({"label": "relevant"}), "'score'", id="no score"),
        pytest.param(
            _completion({"score": "high", "label": "relevant"}),
            "could not convert string to float: 'high'",
            id="word score",
        ),
        pytest.param(
            _completion(["relevant", 0.8]),
            "list indices must be integers or slices, not str",
            id="array",
        ),
    ],
)
def test_an_unusable_answer_is_a_judge_error_saying_why(serve, answer, why):
    judge = serve((200, answer))
    with pytest.raises(JudgeError) as error:
        judge.client().judge(PROMPT)
    assert str(error.value).startswith(f"the judge's answer is not the expected JSON: {why}")
    assert len(judge.requests) == 1  # an answer is not retried


def test_a_null_usage_counts_no_tokens(serve):
    judge = serve((200, _completion({"score": 0.5, "label": "ok"}, usage=None)))
    assert judge.client().judge(PROMPT) == JudgeVerdict(0.5, "ok", "", 0)


def test_a_body_that_is_not_json_is_a_judge_error(serve):
    judge = serve((200, b"<html>502 Bad Gateway</html>"))
    with pytest.raises(JudgeError, match="not the expected JSON"):
        judge.client().judge(PROMPT)


def test_server_errors_and_throttling_are_retried_until_an_answer(serve):
    judge = serve((503, b"{}"), (429, b"{}"), (200, GOOD))
    assert judge.client(max_retries=2).judge(PROMPT).score == 0.8
    assert len(judge.requests) == 3


def test_a_client_error_is_not_retried_and_never_shows_the_key(serve):
    judge = serve((401, b'{"error": {"message": "bad key"}}'))
    client = judge.client(max_retries=3)
    with pytest.raises(JudgeError) as error:
        client.judge(PROMPT)
    assert str(error.value) == f"HTTP 401 from {judge.url}/chat/completions"
    assert len(judge.requests) == 1
    assert error.value.__cause__ is None and error.value.__suppress_context__
    assert isinstance(error.value, AflError)  # printed as one line by the CLI
    assert SECRET not in repr(error.value) and SECRET not in repr(client)


def test_the_last_failure_is_named_after_every_attempt(serve):
    judge = serve((500, b""), (500, b""))
    with pytest.raises(JudgeError) as error:
        judge.client(max_retries=1).judge(PROMPT)
    assert str(error.value) == (
        f"the judge failed after 2 attempts: HTTP 500 from {judge.url}/chat/completions"
    )
    assert SECRET not in str(error.value)


def test_an_unreachable_judge_is_retried_then_named():
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    client = JudgeClient(url, "judge-small", api_key=SECRET, max_retries=2, backoff_s=0.0)
    with pytest.raises(JudgeError) as error:
        client.judge(PROMPT)
    assert str(error.value) == (
        f"the judge failed after 3 attempts: {url}/chat/completions unreachable: "
        "[Errno 111] Connection refused"
    )


def test_the_client_shows_where_it_calls_but_not_its_key_or_a_password_in_its_url():
    client = JudgeClient("https://judge:url-pass@llm.internal/v1", "judge-small", api_key=SECRET)
    assert repr(client) == (
        "JudgeClient(url='https://judge:<redacted>@llm.internal/v1/chat/completions', "
        "model='judge-small', api_key='<redacted>')"
    )
    assert repr(JudgeClient("http://localhost:1/v1", "m")).endswith("api_key='')")
