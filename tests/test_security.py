"""Security properties: loopback by default, no unsafe deserialisation, no shell, headers and body limits live."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import httpx
import pytest

from ui import cli
from ui import server

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CODE = sorted([*(ROOT / "assistant").rglob("*.py"), *(ROOT / "ui").rglob("*.py")])
# Calls that would deserialise arbitrary objects or run a shell; none may appear in the shipped code.
FORBIDDEN_CALLS = {"pickle.load", "pickle.loads", "pickle.Unpickler", "torch.load", "joblib.load", "marshal.loads",
                   "shelve.open", "yaml.load", "yaml.unsafe_load", "os.system", "os.popen", "eval", "exec",
                   "subprocess.getoutput", "subprocess.getstatusoutput"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "joblib", "shelve", "marshal"}


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node, ast.unparse(node.func)


def test_shipped_code_has_no_unsafe_deserialisation_and_no_shell():
    problems = []
    for path in SHIPPED_CODE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                problems += [f"{path.name}: imports {n}" for n in names if n.split(".")[0] in FORBIDDEN_MODULES]
        for call, name in _calls(tree):
            if name in FORBIDDEN_CALLS:
                problems.append(f"{path.name}:{call.lineno}: {name}")
            if name.startswith("subprocess.") or name in {"run", "Popen", "check_output", "call"}:
                for keyword in call.keywords:
                    if keyword.arg == "shell" and not (isinstance(keyword.value, ast.Constant)
                                                       and keyword.value.value is False):
                        problems.append(f"{path.name}:{call.lineno}: {name}(shell=...)")
            if name in {"np.load", "numpy.load"}:
                for keyword in call.keywords:
                    if keyword.arg == "allow_pickle":
                        problems.append(f"{path.name}:{call.lineno}: np.load(allow_pickle=...)")
    assert SHIPPED_CODE and problems == []


def test_the_grep_check_would_catch_a_shell_call(tmp_path):
    """The check above is not vacuous: the same walk flags a planted shell call and pickle load."""
    planted = ast.parse("import pickle\nimport subprocess\nsubprocess.run(q, shell=True)\npickle.loads(b)\n")
    names = [name for _, name in _calls(planted)]
    assert "pickle.loads" in names and "subprocess.run" in names


def test_binds_to_loopback_unless_told_otherwise():
    assert server.DEFAULT_HOST == "127.0.0.1"
    assert inspect.signature(server.serve).parameters["host"].default == "127.0.0.1"
    serve_args = cli._parser().parse_args(["serve"])
    assert serve_args.host == "127.0.0.1"


def test_live_server_headers_body_limits_and_no_cross_origin_access(live_url):
    page = httpx.get(f"{live_url}/", timeout=30)
    api = httpx.get(f"{live_url}/api/sources", timeout=30, headers={"Origin": "http://evil.example"})
    for response in (page, api):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "default-src 'self'" in response.headers["content-security-policy"]
    assert api.headers.get("access-control-allow-origin") in (None, "null")  # no other site may read the API
    too_big = httpx.post(f"{live_url}/api/ask", content=b'{"question": "' + b"a" * 70_000 + b'"}',
                         headers={"content-type": "application/json"}, timeout=30)
    assert too_big.status_code == 413 and "limit" in too_big.json()["error"]

    def chunks():  # no Content-Length: the limit holds for a streamed body too
        for _ in range(20):
            yield b"x" * 8192

    streamed = httpx.post(f"{live_url}/api/ask", content=chunks(), headers={"content-type": "application/json"},
                          timeout=30)
    assert streamed.status_code == 413
    assert httpx.get(f"{live_url}/api/health", timeout=30).status_code == 200


@pytest.mark.parametrize("path", ["/api/../../etc/passwd", "/file=/etc/passwd", "/gradio_api/file=/etc/passwd",
                                  "/static/../../../etc/passwd"])
def test_no_files_outside_the_app_are_served(live_url, path):
    response = httpx.get(f"{live_url}{path}", timeout=30)
    assert "root:x:0:0" not in response.text
