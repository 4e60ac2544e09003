"""The playground's server without a browser: the JSON API, its safety rules, files, the CLI."""

from __future__ import annotations

import io
import json
import signal
import socket
import subprocess
import urllib.request

import numpy as np
import pytest

import chainrule as cr
from tests.conftest import COMMAND, run
from tests.playground.conftest import api, multiclass_csv, request


def test_state_reports_what_the_page_shows(playground):
    status, state = api(playground, "GET", "/api/state")
    assert status == 200
    assert state["epoch"] == 0 and state["task"] == "classification" and state["classes"] == ["0", "1"]
    assert state["sizes"] == [2, 8, 8, 1]
    assert state["loss"] > 0 and state["val_loss"] > 0
    grid = state["grid"]
    assert grid["kind"] == "probability"
    import base64

    assert len(base64.b64decode(grid["b64"])) == grid["size"] ** 2  # one byte per grid value
    assert state["data"]["n_train"] + state["data"]["n_test"] == state["data"]["rows"] == 300


def test_step_trains_one_epoch_and_reset_restores_the_starting_weights(playground):
    start = [w["W"] for w in playground.session.net.get_weights() if "W" in w]
    assert api(playground, "POST", "/api/command", {"cmd": "step"})[1]["epoch"] == 1
    assert api(playground, "POST", "/api/command", {"cmd": "step"})[1]["epoch"] == 2
    moved = [w["W"] for w in playground.session.net.get_weights() if "W" in w]
    assert not all(np.array_equal(a, b) for a, b in zip(start, moved, strict=True))
    assert api(playground, "POST", "/api/command", {"cmd": "reset"})[1]["epoch"] == 0
    again = [w["W"] for w in playground.session.net.get_weights() if "W" in w]
    assert all(np.array_equal(a, b) for a, b in zip(start, again, strict=True))
    api(playground, "POST", "/api/command", {"cmd": "new_seed"})
    other = [w["W"] for w in playground.session.net.get_weights() if "W" in w]
    assert not np.array_equal(start[0], other[0])


def test_a_foreign_host_is_refused(playground):
    """DNS rebinding: a page on evil.example whose name now points to 127.0.0.1."""
    port = playground.server.server_address[1]
    for path in ("/", "/api/state", "/api/model"):
        status, _, body = request(playground, "GET", path, headers={"Host": f"evil.example:{port}"})
        assert status == 403 and b"Host" in body
    status, _, _ = request(playground, "GET", "/api/state", headers={"Host": f"127.0.0.1:{port + 1}"})
    assert status == 403
    assert request(playground, "GET", "/api/state", headers={"Host": f"localhost:{port}"})[0] == 200


def test_a_foreign_origin_cannot_change_state(playground):
    port = playground.server.server_address[1]
    step = {"cmd": "step"}
    status, reply = api(playground, "POST", "/api/command", step, {"Origin": "http://evil.example"})
    assert status == 403 and "another site" in reply["error"]
    status, _ = api(playground, "POST", "/api/command", step, {"Origin": f"http://localhost:{port + 1}"})
    assert status == 403
    status, _ = api(playground, "POST", "/api/command", step, {"Sec-Fetch-Site": "cross-site"})
    assert status == 403
    assert playground.session.epoch == 0
    status, _ = api(playground, "POST", "/api/command", step, {"Origin": f"http://127.0.0.1:{port}"})
    assert status == 200 and playground.session.epoch == 1


def test_an_ip_origin_on_the_same_port_cannot_change_state(playground):
    """Issue 21, 1: a page served from another machine (any IP, the same port) is refused."""
    port = playground.server.server_address[1]
    step = {"cmd": "step"}
    for origin in (
        f"http://192.0.2.7:{port}",
        f"http://10.0.0.1:{port}",
        "null",
        f"https://127.0.0.1:{port}",
    ):
        status, reply = api(playground, "POST", "/api/command", step, {"Origin": origin})
        assert status == 403 and "another site" in reply["error"], origin
    body = b"a,b\n1,2\n3,4\n"
    status, _ = api(
        playground, "POST", "/api/upload?name=x.csv", body, {"Origin": f"http://192.0.2.7:{port}"}
    )
    assert status == 403
    assert playground.session.epoch == 0 and playground.session.data.prep.target != "b"
    status, _ = api(playground, "POST", "/api/command", step, {"Origin": f"http://localhost:{port}"})
    assert status == 200 and playground.session.epoch == 1


def test_a_request_without_the_page_token_cannot_change_state(playground):
    """Issue 21, 1: without Origin and Sec-Fetch-Site (old browsers, other clients) the token decides."""
    step = {"cmd": "step"}
    for token in (None, "", "guess", playground.server.token[:-1]):
        status, reply = api(playground, "POST", "/api/command", step, {"X-Chainrule-Token": token})
        assert status == 403 and "X-Chainrule-Token" in reply["error"]
    assert playground.session.epoch == 0
    status, _, page = request(playground, "GET", "/")
    assert status == 200
    assert f'<meta name="chainrule-token" content="{playground.server.token}">'.encode() in page
    assert api(playground, "POST", "/api/command", step)[0] == 200 and playground.session.epoch == 1


def test_a_non_loopback_host_warns_who_can_reach_it():
    pytest.importorskip("pandas")
    from chainrule.live import playground as start
    from chainrule.live.reach import reach_warning

    with pytest.warns(UserWarning, match="every computer that can reach this machine on port") as caught:
        handle = start(host="0.0.0.0", port=0, open_browser=False)
    handle.stop()
    assert "--host 127.0.0.1" in str(caught[0].message)
    assert "192.168.1.4 on port 80" in reach_warning("192.168.1.4", 80)
    assert all(reach_warning(host, 80) is None for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"))


def test_an_upload_cut_short_is_refused_and_changes_nothing(playground):
    """Issue 21, 4: fewer bytes than Content-Length are never used as the data."""
    host, port = playground.server.server_address[:2]
    body = b"a,b,c\n" + b"1,2,3\n" * 100
    sent = body[:200]
    head = (
        f"POST /api/upload?name=short.csv HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"X-Chainrule-Token: {playground.server.token}\r\nContent-Type: text/csv\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, port), timeout=30) as connection:
        connection.sendall(head + sent)
        connection.shutdown(socket.SHUT_WR)  # the client gives up after 200 bytes
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    status, _, payload = reply.partition(b"\r\n\r\n")
    assert b" 400 " in status.split(b"\r\n")[0]
    assert f"cut short (200 of {len(body)} bytes" in json.loads(payload)["error"]
    state = api(playground, "GET", "/api/state")[1]
    assert state["data"]["rows"] == 300 and state["source"] == ""  # still the built-in data


def test_malformed_bodies_get_a_400_and_the_server_keeps_answering(playground):
    """Issue 21, 6: bodies that are not objects, Infinity and 400-digit numbers, a table with only
    the target: each a 400 with a message, and the state still answers."""
    for body in (b"[]", b"null", b"7", b'"step"'):
        status, reply = api(playground, "POST", "/api/command", body, {"Content-Type": "application/json"})
        assert status == 400 and "must be a JSON object" in reply["error"], body
    status, reply = api(playground, "POST", "/api/explain", b'{"index": Infinity}')
    assert status == 400 and "Infinity is not a number JSON allows" in reply["error"]
    huge = b'{"cmd": "config", "config": {"lr": 1' + b"0" * 400 + b"}}"
    assert api(playground, "POST", "/api/command", huge)[0] == 400
    assert api(playground, "POST", "/api/explain", b'{"index": 1' + b"0" * 400 + b"}")[0] == 400
    status, reply = api(playground, "POST", "/api/upload?name=only.csv", b"y\n1\n2\n3\n4\n5\n6\n")
    assert status == 400 and reply["error"].startswith("only.csv:")
    status, state = api(playground, "GET", "/api/state")
    assert status == 200 and state["data"]["rows"] == 300 and state["sizes"] == [2, 8, 8, 1]


def test_reads_and_pause_never_wait_for_training(playground):
    """Issue 21, 6: while training holds the session (a long epoch on a large table), the state
    and data still answer, and a pause is accepted at once (training sees it at its next epoch)."""
    import http.client
    import threading

    session, host, port = playground.session, *playground.server.server_address[:2]
    held, release = threading.Event(), threading.Event()

    def long_epoch():
        with session.lock:
            held.set()
            release.wait(120)

    holder = threading.Thread(target=long_epoch)
    holder.start()
    try:
        assert held.wait(30)
        for method, path, body in (
            ("GET", "/api/state", None),
            ("GET", "/api/data", None),
            ("POST", "/api/command", b'{"cmd": "pause"}'),
        ):
            connection = http.client.HTTPConnection(host, port, timeout=20)  # far below the epoch's 120 s
            headers = {"Host": f"{host}:{port}", "X-Chainrule-Token": getattr(playground.server, "token", "")}
            connection.request(method, path, body=body, headers=headers)
            assert connection.getresponse().status == 200, path
            connection.close()
        assert session.playing is False
    finally:
        release.set()
        holder.join()


def test_upload_is_capped_with_a_clear_message(playground):
    playground.server.max_upload = 1000
    body = b"a,b\n" + b"1,2\n" * 400
    status, reply = api(playground, "POST", "/api/upload?name=big.csv", body, {"Content-Type": "text/csv"})
    assert status == 413
    assert reply["error"] == "the file is 1.6 kB; the playground accepts tables up to 1.0 kB"
    assert api(playground, "GET", "/api/state")[0] == 200


def test_a_malformed_csv_gives_a_message_and_the_server_keeps_running(playground):
    bad = b'a,b,c\n1,2,3\n4,"5\n'  # an unterminated quote
    status, reply = api(playground, "POST", "/api/upload?name=broken.csv", bad, {"Content-Type": "text/csv"})
    assert status == 400 and reply["error"].startswith("broken.csv:")
    assert "chainrule-upload" not in reply["error"]  # the temporary file is not named
    one_class = b"x,label\n1,a\n2,a\n3,a\n4,a\n"
    status, reply = api(playground, "POST", "/api/upload?name=one.csv", one_class)
    assert status == 400 and "single class" in reply["error"]
    status, state = api(playground, "GET", "/api/state")
    assert status == 200 and state["data"]["rows"] == 300  # the built-in data is still there


def test_uploaded_table_is_read_as_chainrule_train_reads_it(playground, tmp_path):
    csv = multiclass_csv(tmp_path / "species.csv")
    status, reply = api(playground, "POST", "/api/upload?name=species.csv", csv.read_bytes())
    assert status == 200 and reply["rows"] == 120
    data = api(playground, "GET", "/api/data")[1]
    assert data["classes"] == ["ant", "bee", "cat"] and data["target"] == "species"
    assert data["features"] == ["size", "weight", "colour=blue", "colour=green", "colour=red"]
    assert data["view"] == [0, 1] and "linear fit" in data["view_reason"]
    assert set(data["held"]["values"]) == {"colour"}  # a real category of a real row
    assert data["held"]["values"]["colour"] in {"red", "green", "blue"}
    assert api(playground, "GET", "/api/state")[1]["sizes"][-1] == 3


def test_downloaded_model_works_with_chainrule_predict(playground, tmp_path):
    csv = multiclass_csv(tmp_path / "species.csv")
    api(playground, "POST", "/api/upload?name=species.csv", csv.read_bytes())
    for _ in range(30):
        api(playground, "POST", "/api/command", {"cmd": "step"})
    status, headers, body = request(playground, "GET", "/api/model")
    assert status == 200 and "attachment" in headers["Content-Disposition"]
    (tmp_path / "model.npz").write_bytes(body)
    model = cr.load(tmp_path / "model.npz")
    assert isinstance(model, cr.TableModel) and model.classes_.tolist() == ["ant", "bee", "cat"]
    assert model.metadata["training"]["epochs_run"] == 30
    # chainrule.load predicts on the raw rows what the page's network predicts on its prepared ones
    pd = pytest.importorskip("pandas")
    session = playground.session
    page = np.array(["ant", "bee", "cat"])[session.net.predict(session.data.X).argmax(axis=1)]
    np.testing.assert_array_equal(model.predict(pd.read_csv(csv)), page)
    result = run("predict", "model.npz", "species.csv", cwd=tmp_path)
    predicted = [line.split(",")[-1] for line in result.stdout.strip().splitlines()[1:]]
    truth = csv.read_text().strip().splitlines()[1:]
    correct = sum(p == t.split(",")[-1] for p, t in zip(predicted, truth, strict=True))
    assert correct / len(truth) > 0.8


def test_onnx_download_matches_the_network(playground):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    api(playground, "POST", "/api/command", {"cmd": "step"})
    status, _, body = request(playground, "GET", "/api/model.onnx")
    assert status == 200
    session = ort.InferenceSession(body)
    data = playground.session.data
    frame = data.frame[["x1", "x2"]].to_numpy(dtype=np.float32)
    onnx_out = session.run(None, {session.get_inputs()[0].name: frame})[0]
    np.testing.assert_allclose(onnx_out, playground.session.net.predict(data.X), atol=1e-5)


def test_explain_returns_the_numbers_of_trace_step(playground):
    api(playground, "POST", "/api/command", {"cmd": "step"})
    session = playground.session
    index = int(session.data.train[5])
    status, reply = api(playground, "POST", "/api/explain", {"split": "train", "index": index})
    assert status == 200
    x, y = session.data.X[index : index + 1], session.data.y[index : index + 1]
    state = {k: v.copy() for k, v in session.optimizer.state["0.W"].items()}
    trace = cr.trace_step(
        session.net, x, y, loss=session.loss, optimizer=session.next_optimizer(), apply=False
    )
    assert reply["trace"]["loss"] == trace.loss
    assert reply["trace"]["rule"]["name"] == "adam" and reply["trace"]["rule"]["settings"]["t"] > 1
    assert all(np.array_equal(v, session.optimizer.state["0.W"][k]) for k, v in state.items())  # untouched
    for shown, record in zip(reply["trace"]["layers"], trace.layers, strict=True):
        np.testing.assert_array_equal(shown["delta"], record.delta)
        np.testing.assert_array_equal(shown["changes"]["W"], record.changes["W"])
        np.testing.assert_array_equal(shown["updates"]["W"]["m_hat"], record.updates["W"].arrays["m_hat"])
    status, reply = api(playground, "POST", "/api/explain", {"split": "test", "index": index})
    assert status == 400 and "no test sample" in reply["error"]


def test_divergence_pauses_and_keeps_finite_weights(playground):
    relu = [{"units": 8, "activation": "relu"}]
    change = {"dataset": "surface", "optimizer": "sgd", "lr": 10, "batch_size": 0, "layers": relu}
    assert api(playground, "POST", "/api/command", {"cmd": "config", "config": change})[0] == 200
    for _ in range(20):
        api(playground, "POST", "/api/command", {"cmd": "step"})
    state = api(playground, "GET", "/api/state")[1]
    assert "diverged" in state["message"]["text"] and not state["playing"]
    assert all(np.isfinite(w).all() for layer in playground.session.net.get_weights() for w in layer.values())


def test_bad_settings_and_paths_are_refused(playground):
    status, reply = api(playground, "POST", "/api/command", {"cmd": "config", "config": {"lr": "fast"}})
    assert status == 400 and "lr must be a number" in reply["error"]
    status, reply = api(
        playground, "POST", "/api/command", {"cmd": "config", "config": {"path": "/etc/passwd"}}
    )
    assert status == 400 and "unknown setting" in reply["error"]
    assert request(playground, "GET", "/static/../server.py")[0] == 404
    assert request(playground, "GET", "/static/app.js")[0] == 200


def test_a_taken_port_falls_back_to_a_free_one():
    pytest.importorskip("pandas")
    from chainrule.live import playground as start

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with start(port=port, open_browser=False) as handle:
            assert handle.url != f"http://127.0.0.1:{port}/"
            assert "<iframe" in handle._repr_html_() and handle.url in handle._repr_html_()
            with urllib.request.urlopen(handle.url + "api/state") as reply:
                assert json.load(reply)["epoch"] == 0


def test_the_command_prints_the_url_first(tmp_path):
    csv = multiclass_csv(tmp_path / "species.csv")
    process = subprocess.Popen(
        [str(COMMAND), "playground", str(csv), "--no-browser", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        with urllib.request.urlopen(url + "api/data", timeout=30) as reply:
            assert json.load(io.TextIOWrapper(reply))["target"] == "species"
        with urllib.request.urlopen(url, timeout=30) as reply:
            assert b'data-testid="boundary"' in reply.read()
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0


@pytest.fixture
def big_playground():
    """A playground on a 100,000-row table: one epoch (5,000 mini-batches of 10) takes seconds."""
    pd = pytest.importorskip("pandas")
    from chainrule.live import playground as start

    X = np.random.default_rng(0).normal(size=(100_000, 2))
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": (X[:, 0] * X[:, 1] > 0).astype(int)})
    handle = start(frame, "y", open_browser=False, port=0)
    yield handle
    handle.stop()


def _weights(session):
    return [value.copy() for layer in session.net.get_weights() for value in layer.values()]


def _training_started(session, start, limit=30.0):
    """Wait until the training thread's first epoch has moved the weights (it is mid-epoch)."""
    import time

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if any(not np.array_equal(a, b) for a, b in zip(start, _weights(session), strict=True)):
            return True
        time.sleep(0.005)
    return False


def test_a_pause_acts_within_200_ms_on_a_100k_row_table(big_playground):
    """Issue 21, 6: a pause mid-epoch is published within 200 ms and the training stops moving;
    the dropped epoch leaves the weights and the optimizer exactly as the epoch began."""
    import time

    session = big_playground.session
    start = _weights(session)
    optimizer_start = {key: value.copy() for key, value in session.optimizer.state_arrays().items()}
    assert api(big_playground, "POST", "/api/command", {"cmd": "play"})[0] == 200
    assert _training_started(session, start)
    began = time.perf_counter()
    assert api(big_playground, "POST", "/api/command", {"cmd": "pause"})[0] == 200
    while api(big_playground, "GET", "/api/state")[1]["playing"]:
        assert time.perf_counter() - began < 5
    seconds = time.perf_counter() - began
    assert seconds < 0.2, f"the pause took {seconds:.3f} s to show"
    held = _weights(session)
    time.sleep(0.3)  # an epoch still running would move the weights (and end, epoch 1)
    assert all(np.array_equal(a, b) for a, b in zip(held, _weights(session), strict=True))
    state = api(big_playground, "GET", "/api/state")[1]
    assert state["epoch"] == 0 and state["playing"] is False and len(state["history"]["loss"]) == 1
    assert all(np.array_equal(a, b) for a, b in zip(start, held, strict=True))
    assert session.optimizer.iterations == 0
    for key, value in session.optimizer.state_arrays().items():
        assert np.array_equal(value, optimizer_start[key]), key


@pytest.mark.slow
def test_a_paused_epoch_runs_again_with_the_same_numbers(big_playground):
    """The epoch a pause drops, run again, gives the weights of a run that never paused."""
    session = big_playground.session
    start = _weights(session)
    api(big_playground, "POST", "/api/command", {"cmd": "play"})
    assert _training_started(session, start)
    api(big_playground, "POST", "/api/command", {"cmd": "pause"})
    assert api(big_playground, "POST", "/api/command", {"cmd": "step"})[1]["epoch"] == 1
    after_pause = _weights(session)
    assert api(big_playground, "POST", "/api/command", {"cmd": "reset"})[1]["epoch"] == 0
    assert api(big_playground, "POST", "/api/command", {"cmd": "step"})[1]["epoch"] == 1
    assert all(np.array_equal(a, b) for a, b in zip(after_pause, _weights(session), strict=True))


def test_a_client_that_hangs_up_is_quiet_and_changes_nothing(playground, capfd):
    """Issue 21, 6: clients that hang up mid-request, mid-upload or before reading a reply: no
    traceback, nothing acted on (a command cut short is not run), and the server keeps answering."""
    host, port = playground.server.server_address[:2]
    assert api(playground, "POST", "/api/command", {"cmd": "step"})[1]["epoch"] == 1
    weights = _weights(playground.session)
    token = playground.server.token

    def hang_up(head: str, body: bytes, read: bool = False, half: bool = False) -> bytes:
        with socket.create_connection((host, port), timeout=30) as connection:
            connection.sendall(head.encode() + body)
            if half:  # the client stops sending but still listens
                connection.shutdown(socket.SHUT_WR)
            reply = b""
            while read and (chunk := connection.recv(65536)):
                reply += chunk
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        return reply  # closed with a reset: the server's next write fails

    def post(path: str, length: int) -> str:
        return (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nX-Chainrule-Token: {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
        )

    command = b'{"cmd": "reset"}'  # valid JSON, but only part of what Content-Length announced
    reply = hang_up(post("/api/command", 200), command, read=True, half=True)
    assert b" 400 " in reply.split(b"\r\n")[0] and b"cut short (16 of 200 bytes" in reply
    hang_up(post("/api/command", 200), command)
    hang_up(post("/api/upload?name=t.csv", 5000), b"a,b,y\n" + b"1,2,0\n" * 100)
    hang_up(post("/api/command", 10), b"")
    hang_up(f"GET /api/state HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n", b"")
    hang_up(f"GET /api/model HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n", b"")
    hang_up("GET /api/sta", b"")
    status, state = api(playground, "GET", "/api/state")
    assert status == 200 and state["epoch"] == 1 and state["data"]["rows"] == 300 and state["source"] == ""
    assert all(np.array_equal(a, b) for a, b in zip(weights, _weights(playground.session), strict=True))
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "Error" not in out + err, out + err
