"""The editor schemas in the real yaml-language-server (the server behind VS Code's
YAML extension), driven over stdio as an editor drives it.

The server is found through YAML_LANGUAGE_SERVER, in `.ci/lsp/` or on PATH; where it
is none of these, the tests install the pinned version with npm into `.ci/lsp/` the
first time (under a file lock: one install, whichever worker comes first), so the
README's test command passes on a fresh machine. Skipped, with that reason, only
where node or npm is absent.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT

EXAMPLES = ROOT / "examples"


def _server() -> str | None:
    for candidate in (
        os.environ.get("YAML_LANGUAGE_SERVER"),
        str(ROOT / ".ci" / "lsp" / "node_modules" / ".bin" / "yaml-language-server"),
        shutil.which("yaml-language-server"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


LSP_VERSION = "1.25.0"  # the version .ci/run installs


def _install() -> str | None:
    """Install the pinned server into .ci/lsp/ (once: later runs find it there)."""
    npm = shutil.which("npm")
    if npm is None:
        return None
    from filelock import FileLock

    target = ROOT / ".ci" / "lsp"
    target.mkdir(parents=True, exist_ok=True)
    binary = target / "node_modules" / ".bin" / "yaml-language-server"
    with FileLock(str(target / ".install.lock"), timeout=900):
        if not binary.exists():
            subprocess.run(
                [
                    npm,
                    "install",
                    "--silent",
                    "--no-audit",
                    "--no-fund",
                    "--no-save",
                    f"yaml-language-server@{LSP_VERSION}",
                ],
                cwd=target,
                capture_output=True,
                timeout=900,
                check=False,
            )
    return str(binary) if binary.exists() else None


pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="needs node (yaml-language-server)"),
    pytest.mark.xdist_group("lsp"),
]


class Server:
    """A yaml-language-server over stdio: JSON-RPC with Content-Length framing."""

    def __init__(self, command: str, root: Path, schema: Path) -> None:
        self.proc = subprocess.Popen(
            [command, "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.inbox: queue.Queue[dict] = queue.Queue()
        self.settings = {
            "validate": True,
            "completion": True,
            "hover": True,
            "schemas": {schema.as_uri(): ["**/streamkap/**/*.yaml", "**/*.source.yaml"]},
        }
        self.ids = 0
        threading.Thread(target=self._read, daemon=True).start()
        self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "capabilities": {"workspace": {"configuration": True}},
            },
        )
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": {"yaml": self.settings}})

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            headers = {}
            while True:
                line = stream.readline()
                if not line:
                    return
                text = line.decode().strip()
                if not text:
                    break
                key, value = text.split(":", 1)
                headers[key.lower()] = value.strip()
            self.inbox.put(json.loads(stream.read(int(headers["content-length"]))))

    def send(self, message: dict) -> None:
        data = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        self.proc.stdin.flush()

    def notify(self, method: str, params: dict) -> None:
        self.send({"method": method, "params": params})

    def wait(self, matches, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            message = self.inbox.get(timeout=max(0.1, deadline - time.monotonic()))
            if message.get("method") == "workspace/configuration":
                items = message["params"]["items"]
                self.send({"id": message["id"], "result": [self.settings] * len(items)})
            elif "id" in message and "method" in message:
                self.send({"id": message["id"], "result": None})
            elif matches(message):
                return message

    def request(self, method: str, params: dict) -> dict:
        self.ids += 1
        ident = self.ids
        self.send({"id": ident, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == ident)

    def diagnostics(self, path: Path, text: str) -> list[tuple[int, str]]:
        uri = path.as_uri()
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}},
        )
        found = self.wait(
            lambda m: (
                m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
            )
        )
        return [
            (d["range"]["start"]["line"] + 1, d["message"]) for d in found["params"]["diagnostics"]
        ]

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="module")
def lsp(tmp_path_factory):
    command = _server() or _install()
    if command is None:
        if shutil.which("npm") is None:
            pytest.skip("needs npm to install yaml-language-server (or set YAML_LANGUAGE_SERVER)")
        pytest.fail(
            f"yaml-language-server could not be installed: npm install --prefix .ci/lsp "
            f"yaml-language-server@{LSP_VERSION} (as .ci/run does), or set YAML_LANGUAGE_SERVER"
        )
    root = tmp_path_factory.mktemp("workspace")
    editor = root / ".streamkap" / "editor"
    out = subprocess.run(
        [
            str(Path(os.sys.executable).parent / "streamkap-config"),
            "schemas",
            "export",
            "--editor",
            str(editor),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "STREAMKAP_CONFIG_CACHE": str(root / "c")},
    )
    assert out.returncode == 0, out.stderr
    server = Server(command, root, editor / "streamkap.json")
    yield server, root
    server.close()


def place(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


VALID = [
    p
    for p in sorted(EXAMPLES.rglob("*.yaml"))
    if "-invalid" not in p.name
    and "project-broken" not in p.parts
    # The monorepo example holds a Helm chart and manifests beside its Streamkap files.
    and p.relative_to(EXAMPLES).parts[:2] != ("monorepo", "charts")
    and p.relative_to(EXAMPLES).parts[:2] != ("monorepo", "k8s")
    and p.relative_to(EXAMPLES).parts[:2] != ("monorepo", "docker-compose.yaml")
]


def test_no_diagnostics_on_any_valid_example_of_any_kind_in_nested_folders(lsp):
    server, root = lsp
    opened = {}
    for n, example in enumerate(VALID):  # all open at once, as in an editor's workspace
        folder = "streamkap" if n % 2 else "team/deep/streamkap/sub"  # mapped by the glob
        path = place(root, f"{folder}/{n}-{example.name}", example.read_text())
        opened[path.as_uri()] = example.name
        server.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": path.as_uri(),
                    "languageId": "yaml",
                    "version": 1,
                    "text": example.read_text(),
                }
            },
        )
    found = {}
    while len(found) < len(opened):
        message = server.wait(
            lambda m: (
                m.get("method") == "textDocument/publishDiagnostics"
                and m["params"]["uri"] in opened
            )
        )
        found[message["params"]["uri"]] = message["params"]["diagnostics"]
    assert {opened[uri]: d for uri, d in found.items() if d} == {}


PG = (EXAMPLES / "postgresql.source.yaml").read_text()


@pytest.mark.parametrize(
    ("change", "line", "says"),
    [
        (("sslmode: require", "sslmdoe: require"), 12, "sslmdoe is not allowed"),
        (("    dbname: orders\n", ""), 6, 'Missing property "dbname"'),
        (("sslmode: require", "sslmode: requir"), 12, "expected one of require, disable"),
        (("port: 5432", "port: 54x2"), 8, "expected an integer (a whole number, e.g. 5432)"),
    ],
)
def test_one_diagnostic_at_the_right_line_in_words(lsp, change, line, says):
    server, root = lsp
    text = PG.replace(*change)
    path = place(root, f"streamkap/sources/case-{abs(hash(change))}.yaml", text)
    found = server.diagnostics(path, text)
    assert [(ln, says in msg) for ln, msg in found] == [(line, True)], found


def test_completion_under_config_offers_each_setting_once(lsp):
    server, root = lsp
    text = "name: pg\nconnector: postgresql\nconfig:\n  \n"
    path = place(root, "streamkap/sources/complete.yaml", text)
    server.diagnostics(path, text)
    reply = server.request(
        "textDocument/completion",
        {"textDocument": {"uri": path.as_uri()}, "position": {"line": 3, "character": 2}},
    )
    items = reply["result"]["items"] if isinstance(reply["result"], dict) else reply["result"]
    settings = [i["label"] for i in items if i.get("kind") == 10]  # Property
    assert "database" in settings and "schema.include.list" in settings
    assert len(settings) == len(set(settings))
    assert not [s for s in settings if s.endswith((".user.defined", ".user.displayed"))]
    assert "database_hostname" not in settings  # Terraform names validate, unoffered


def test_a_modeline_relative_to_the_file_works_from_a_nested_folder(lsp):
    server, root = lsp
    text = (
        "# yaml-language-server: $schema=../../../.streamkap/editor/streamkap.json\n"
        + PG.replace("port: 5432", "port: 54x2")
    )
    # Outside the mapped globs: only the modeline points at the schema.
    path = place(root, "deploy/other/sources/orders.yaml", text)
    found = server.diagnostics(path, text)
    assert found == [(9, "expected an integer (a whole number, e.g. 5432)")]
