from __future__ import annotations

import logging

import pytest

from apiserver import CLIENT_ID, SECRET, ApiServer
from streamkap_config.core.errors import ApiError, StreamkapConfigError
from streamkap_config.remote.client import StreamkapClient
from streamkap_config.schemas.cache import connector_definitions


@pytest.fixture
def server():
    with ApiServer() as s:
        yield s


def client(server, **kw) -> StreamkapClient:
    kw.setdefault("token", "static-token")
    kw.setdefault("timeout", 1.0)
    kw.setdefault("backoff", 0.01)
    return StreamkapClient(server.url, **kw)


def test_fetch_with_bearer_token_and_etag(server):
    c = client(server)
    r = c.get_connectors("postgresql")
    assert list(r.data) == ["PostgreSQL"]
    assert r.etag == f'"{server.versions["postgresql"]}"'
    assert server.seen_auth[-1] == "Bearer static-token"
    again = c.get_connectors("postgresql", etag=r.etag)
    assert again.not_modified and again.data is None


def test_401_without_token_is_not_retried(server):
    c = client(server, token=None)
    with pytest.raises(ApiError) as info:
        c.get_connectors("postgresql")
    assert info.value.status == 401
    assert "STREAMKAP_TOKEN" in str(info.value)
    assert server.requests["postgresql"] == 1


def test_404_for_unknown_connector(server):
    with pytest.raises(ApiError) as info:
        client(server).get_connectors("nope")
    err = info.value
    assert (err.method, err.status) == ("GET", 404)
    assert "connector_code=nope" in str(err) and "not found" in err.snippet


def test_client_credentials_are_exchanged_and_renewed(server):
    server.token_ttl = 600
    # Renewing 600 s early makes every token due at once: each request fetches a new one.
    c = client(server, token=None, client_id=CLIENT_ID, secret=SECRET, renew_before=600)
    c.get_connectors("mysql")
    c.get_connectors("mysql")
    assert server.requests["token"] == 2
    assert server.seen_auth[-2:] == ["Bearer issued-1", "Bearer issued-2"]
    # With the default margin a 600 s token is reused.
    reused = client(server, token=None, client_id=CLIENT_ID, secret=SECRET)
    reused.get_connectors("mysql")
    reused.get_connectors("mysql")
    assert server.requests["token"] == 3


def test_revoked_token_is_renewed_once_on_401(server):
    c = client(server, token=None, client_id=CLIENT_ID, secret=SECRET)
    c.get_connectors("mysql")
    server.tokens.clear()  # the server forgets the token: 401, renew once, retry
    assert list(c.get_connectors("mysql").data) == ["MySQL"]
    assert server.requests["token"] == 2
    assert server.seen_auth[-2:] == ["Bearer issued-1", "Bearer issued-2"]


def test_bad_credentials(server):
    c = client(server, token=None, client_id=CLIENT_ID, secret="wrong-secret-value")
    with pytest.raises(ApiError) as info:
        c.get_connectors("mysql")
    assert info.value.status == 401 and "/auth/access-token" in str(info.value)
    assert "wrong-secret-value" not in str(info.value)


def test_5xx_and_429_are_retried_then_succeed(server):
    server.faults = ["500", "429", "html"]
    r = client(server).get_connectors("mysql")
    assert list(r.data) == ["MySQL"]
    assert server.requests["mysql"] == 4


def test_retries_are_bounded(server):
    server.faults = ["500"] * 10
    with pytest.raises(ApiError) as info:
        client(server, retries=2).get_connectors("mysql")
    assert server.requests["mysql"] == 3
    assert info.value.status == 500 and "after 3 attempts" in str(info.value)


def test_retry_after_is_honoured(server, caplog):
    server.faults = ["429", "429"]
    server.retry_after = "0.25"
    with caplog.at_level("INFO", logger="streamkap_config.remote.client"):
        client(server).get_connectors("mysql")
    waits = [r.getMessage() for r in caplog.records if "-> 429" in r.getMessage()]
    assert len(waits) == 2 and all(w.endswith("in 0.25s") for w in waits)
    server.faults = ["429"]
    server.retry_after = "999"  # capped by max_retry_after
    with caplog.at_level("INFO", logger="streamkap_config.remote.client"):
        client(server, max_retry_after=0.1).get_connectors("mysql")
    assert caplog.records[-1].getMessage().endswith("in 0.10s")


def test_html_error_page_is_summarised(server):
    server.faults = ["html"] * 5
    with pytest.raises(ApiError) as info:
        client(server, retries=1).get_connectors("mysql")
    assert info.value.status == 502
    assert "502 Bad Gateway" in info.value.snippet and "\n" not in info.value.snippet


def test_timeouts_are_retried_and_bounded(server):
    server.faults = ["slow"] * 5
    server.slow_seconds = 1.5
    with pytest.raises(ApiError, match="timed out after 2 attempts"):
        client(server, timeout=0.3, retries=1).get_connectors("mysql")
    assert server.requests["mysql"] == 2


def test_truncated_body_is_an_error(server):
    server.faults = ["truncated"] * 5
    with pytest.raises(ApiError, match="connection failed"):
        client(server, retries=1).get_connectors("mysql")


def test_invalid_json_is_an_error(server):
    server.faults = ["invalid-json"]
    with pytest.raises(ApiError, match="not JSON"):
        client(server).get_connectors("postgresql")


def test_plain_http_is_refused_except_loopback():
    with pytest.raises(StreamkapConfigError, match="plain HTTP"):
        StreamkapClient("http://api.example.com")
    StreamkapClient("http://127.0.0.1:9").close()
    StreamkapClient("http://localhost:9").close()
    StreamkapClient("http://[::1]:9").close()
    with pytest.raises(StreamkapConfigError):
        StreamkapClient("ftp://example.com")


def test_token_never_in_repr_errors_or_logs(server, caplog):
    caplog.set_level(logging.DEBUG)
    token = "static-token"
    c = client(server, token=token)
    server.faults = ["500", "500"]
    c.get_connectors("mysql")
    with pytest.raises(ApiError) as info:
        c.get_connectors("nope")
    creds = client(server, token=None, client_id=CLIENT_ID, secret=SECRET)
    texts = [repr(c), str(info.value), repr(info.value), repr(creds), caplog.text]
    for text in texts:
        assert token not in text and SECRET not in text


def test_from_env(monkeypatch, server):
    monkeypatch.setenv("STREAMKAP_API_URL", server.url)
    monkeypatch.setenv("STREAMKAP_TOKEN", "static-token")
    with StreamkapClient.from_env() as c:
        assert c.base_url == server.url
        assert [d.code for d in connector_definitions(c, "s3")] == ["s3"]


def test_a_stopped_test_server_leaves_no_handler_thread_behind():
    """A client that keeps its connection open does not keep the server's handler
    thread alive after the server stops (a thread left running stops a later test
    from forking: see test_parallel.py)."""
    import threading

    with ApiServer() as server:
        kept = client(server)  # not closed: its connection stays open
        kept.get_connectors("postgresql")
        handlers = [t for t in threading.enumerate() if "process_request" in t.name]
        assert handlers
    for thread in handlers:
        thread.join(timeout=5)
    assert not any(t.is_alive() for t in handlers)
    kept.close()


def test_one_attempt_is_said_in_the_singular(server):
    server.faults = ["slow"]
    server.slow_seconds = 1.5
    with pytest.raises(ApiError, match=r"timed out after 1 attempt\b") as caught:
        client(server, timeout=0.3, retries=0).get_connectors("mysql")
    assert "1 attempts" not in str(caught.value)
