"""The page in a real browser (Debian's headless Chromium through Playwright), against a real server."""

from __future__ import annotations

import copy
import re
import time

import numpy as np

import chainrule as cr
from chainrule.train.step import train_step
from tests.playground.conftest import multiclass_csv

PICTURE = "document.querySelector('[data-testid=boundary]').toDataURL()"


def epoch(page) -> int:
    return int(page.get_by_test_id("epoch").inner_text())


def wait_epoch(page, test: str) -> None:
    page.wait_for_function(
        "(() => { const e = +document.querySelector('[data-testid=epoch]').textContent; "
        f"return {test}; }})()"
    )


def test_play_trains_and_the_page_gets_at_least_ten_updates_a_second(page):
    play = page.get_by_test_id("play")
    assert play.get_attribute("data-playing") == "false"
    play.click()
    page.wait_for_selector("[data-testid=play][data-playing=true]")
    wait_epoch(page, "e >= 5")
    before, start = page.evaluate("window.playground.stats.received"), time.perf_counter()
    page.wait_for_timeout(5000)
    rate = (page.evaluate("window.playground.stats.received") - before) / (time.perf_counter() - start)
    print(f"display updates received: {rate:.1f} per second")
    assert rate >= 10
    play.click()
    page.wait_for_selector("[data-testid=play][data-playing=false]")
    stopped = epoch(page)
    page.wait_for_timeout(400)
    assert epoch(page) == stopped > 5
    assert float(page.get_by_test_id("loss").inner_text()) < 0.5


def test_step_trains_one_epoch_and_reset_gives_the_same_picture(page):
    first = page.evaluate(PICTURE)
    for expected in (1, 2, 3):
        page.get_by_test_id("step").click()
        wait_epoch(page, f"e === {expected}")
    assert page.evaluate(PICTURE) != first
    page.get_by_test_id("reset").click()
    wait_epoch(page, "e === 0")
    page.wait_for_timeout(100)
    assert page.evaluate(PICTURE) == first


def test_an_uploaded_multiclass_csv(page, playground, tmp_path):
    page.get_by_test_id("upload").set_input_files(str(multiclass_csv(tmp_path / "species.csv")))
    page.wait_for_function("document.querySelector('#legend').textContent.includes('cat')")
    assert page.locator("#legend").inner_text().split() == ["ant", "bee", "cat", "training", "test"]
    # the message comes with the upload's reply, which may arrive after the new data's frame
    page.wait_for_function(
        "document.querySelector('[data-testid=message]').textContent.includes('species.csv: 120 rows loaded')"
    )
    assert page.locator("#network rect[data-layer='3']").count() == 3  # three softmax outputs
    assert page.locator("#network rect[data-layer='0']").count() == 5  # 2 numbers + 3 one-hot colours
    held = page.get_by_test_id("held-note").inner_text()
    assert "size and weight are the two inputs" in held
    assert re.search(r"held at (train|test) row #\d+: colour = (red|green|blue)\.", held), held
    assert page.get_by_test_id("target").input_value() == "species"
    for _ in range(15):
        page.get_by_test_id("step").click()
    wait_epoch(page, "e === 15")
    assert playground.session.history["metric"][-1] > 0.8


def test_a_built_in_set_after_an_upload_and_back(page, playground, tmp_path):
    page.get_by_test_id("upload").set_input_files(str(multiclass_csv(tmp_path / "species.csv")))
    page.wait_for_function("document.querySelector('#legend').textContent.includes('cat')")
    menu = page.get_by_test_id("set-dataset")
    assert "species.csv" in menu.locator("option[value=csv]").inner_text()
    menu.select_option("xor")
    page.wait_for_function("window.playground.state.data && window.playground.state.data.target === 'label'")
    assert page.locator("#legend").inner_text().split() == ["0", "1", "training", "test"]
    assert menu.input_value() == "xor" and playground.session.config["dataset"] == "xor"
    assert page.locator("#network rect[data-layer='0']").count() == 2
    assert not page.get_by_test_id("message").is_visible()
    menu.select_option("csv")  # the uploaded table is still in the list, with its target
    page.wait_for_function("document.querySelector('#legend').textContent.includes('cat')")
    assert playground.session.config["target"] == "species" and menu.input_value() == "csv"


def test_regression_shows_r2_and_a_value_scale(page, playground):
    page.get_by_test_id("set-dataset").select_option("surface")
    page.wait_for_function("document.querySelector('#metric-name').textContent === 'R²'")
    assert page.locator("#legend .ramp").count() == 1
    assert "prediction of y" in page.locator("#view-title").inner_text()
    page.get_by_test_id("set-speed").select_option("10")
    page.get_by_test_id("play").click()
    wait_epoch(page, "e >= 150")
    page.get_by_test_id("play").click()
    page.wait_for_selector("[data-testid=play][data-playing=false]")
    page.wait_for_timeout(200)
    r2 = float(page.locator("#metric").inner_text())
    assert r2 > 0.5
    assert abs(r2 - playground.session.history["metric"][-1]) < 1e-3


def _trace_value(trace, key):
    match = re.fullmatch(r"([a-zA-Z_]+?)(\d*)\[([\d,]+)\]", key)
    if match is None:
        return getattr(trace, key)
    name, layer, index = match.group(1), match.group(2), tuple(int(i) for i in match.group(3).split(","))
    if not layer:
        return {"y": trace.y, "output": trace.output, "error": trace.error}[name][index]
    record = trace.layers[int(layer) - 1]
    arrays = {"input": record.input, "z": record.z, "a": record.output, "delta": record.delta}
    if name in arrays:
        return arrays[name][index]
    if name in ("dW", "db"):
        return record.changes[name[1]][index]
    return record.updates[name[-1]].arrays[name[:-1]][index]  # gradientW2, m_hatb3, ...


def _isolated_training_point(data) -> int:
    """The training row farthest from any other point of the view (so a click hits it alone)."""
    points = data.X[:, list(data.view)]
    distance = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2)
    np.fill_diagonal(distance, np.inf)
    rows = data.train
    return int(rows[np.argmax(distance[rows].min(axis=1))])


def test_explain_shows_exactly_the_numbers_of_trace_step(page, playground):
    for expected in (1, 2):
        page.get_by_test_id("step").click()
        wait_epoch(page, f"e === {expected}")
    page.get_by_test_id("explain").click()
    # In explain mode (and with its hint shown) before the point is located: the hint moves the view.
    page.wait_for_selector("[data-testid=explain][data-explaining=true]")
    session = playground.session
    index = _isolated_training_point(session.data)
    point = page.evaluate(f"window.playground.pointPixel('train', {index})")
    page.mouse.click(point["x"], point["y"])
    panel = page.get_by_test_id("explain-panel")
    panel.locator("[data-key=loss_after]").wait_for()
    assert f"train sample #{index}" in panel.inner_text()
    x, y = session.data.X[index : index + 1], session.data.y[index : index + 1]
    assert session.optimizer.name == "adam" and session.optimizer.iterations > 0  # the default, mid-run
    real_net, real_opt = copy.deepcopy(session.net), copy.deepcopy(session.optimizer)
    trace = cr.trace_step(
        session.net, x, y, loss="binary_crossentropy", optimizer=session.next_optimizer(), apply=False
    )
    train_step(real_net, x, y, real_net.resolve_loss("binary_crossentropy"), real_opt)  # one real step
    for record, layer, before in zip(
        trace.layers, real_net.dense_layers, session.net.dense_layers, strict=True
    ):
        for key in record.changes:
            np.testing.assert_array_equal(before.params[key] + record.changes[key], layer.params[key])
    shown = page.evaluate(
        "[...document.querySelectorAll('[data-testid=explain-panel] [data-key]')]"
        ".map(e => [e.dataset.key, e.textContent])"
    )
    keys = {key for key, _ in shown}
    assert {"z1[0,7]", "a3[0,0]", "delta1[0,7]", "dW2[7,7]", "db3[0]", "loss", "error[0,0]"} <= keys
    assert {"m_hatW2[7,7]", "vW1[1,7]", "m_prevb3[0]", "gradientW3[7,0]"} <= keys
    assert len(shown) > 900
    assert "adam" in panel.get_by_test_id("rule").inner_text() or "β1" in panel.inner_text()
    for key, text in shown:
        expected = float(_trace_value(trace, key))
        assert float(text) == np.float64(f"{expected:.6g}"), (key, text, expected)
    assert page.get_by_test_id("play").get_attribute("data-playing") == "false"


def test_divergence_is_a_message_with_training_paused(page, playground):
    page.get_by_test_id("set-dataset").select_option("surface")
    page.wait_for_function("document.querySelector('#metric-name').textContent === 'R²'")
    for control, value in (
        ("set-optimizer", "sgd"),
        ("set-lr", "10"),
        ("activation-0", "relu"),
        ("activation-1", "relu"),
    ):
        page.get_by_test_id(control).select_option(value)
        page.wait_for_function(f"window.playground.state.frame.config.lr === 10 || '{control}' !== 'set-lr'")
    page.get_by_test_id("set-batch_size").fill("0")
    page.get_by_test_id("set-batch_size").press("Enter")
    page.wait_for_function("window.playground.state.frame.config.layers[1].activation === 'relu'")
    page.get_by_test_id("play").click()
    message = page.get_by_test_id("message")
    page.wait_for_function("document.querySelector('[data-testid=message]').textContent.includes('diverged')")
    assert "last finite weights" in message.inner_text()
    page.wait_for_selector("[data-testid=play][data-playing=false]")
    assert [layer["activation"] for layer in playground.session.config["layers"]] == ["relu", "relu"]
    weights = playground.session.net.get_weights()
    assert all(np.isfinite(array).all() for layer in weights for array in layer.values())


def test_download_the_model(page, playground, tmp_path):
    page.get_by_test_id("step").click()
    wait_epoch(page, "e === 1")
    with page.expect_download() as download:
        page.get_by_test_id("download").click()
    path = tmp_path / "model.npz"
    download.value.save_as(path)
    model = cr.load(path)
    data = playground.session.data
    np.testing.assert_array_equal(model.network.predict(data.X), playground.session.net.predict(data.X))
    assert model.target == "label"


def test_the_address_reproduces_the_setup(page, playground):
    page.get_by_test_id("set-lr").select_option("0.1")
    page.locator("#add-layer").click()
    page.wait_for_function("window.playground.state.frame.config.layers.length === 3")
    # the address is rewritten when that frame is drawn (it held the first setup since the first one)
    page.wait_for_function(
        "location.hash.startsWith('#config=') && "
        "JSON.parse(decodeURIComponent(location.hash.slice(8))).layers.length === 3"
    )
    link = page.url
    page.get_by_test_id("play").click()  # the first tab's run goes on while the link opens
    wait_epoch(page, "e >= 3")
    second = page.context.new_page()  # a fresh tab (a new hash alone would not reload this one)
    second.goto(link)
    second.wait_for_function(
        "window.playground.state.frame && window.playground.state.frame.config.layers.length === 3"
    )
    sessions = playground.sessions.by_id
    assert len(sessions) == 2
    other = next(s for s in sessions.values() if s is not playground.session)
    assert other.config["lr"] == 0.1 and other.net.sizes == [2, 8, 8, 4, 1] and other.epoch == 0
    # the first tab was not reset: its run still plays and counts on
    first = playground.session.epoch
    assert playground.session.playing and first >= 3
    page.wait_for_function(f"+document.querySelector('[data-testid=epoch]').textContent > {first}")
    # and stepping the second tab trains only its own network
    second.get_by_test_id("step").click()
    second.wait_for_function("document.querySelector('[data-testid=epoch]').textContent === '1'")
    assert other.epoch == 1 and playground.session.epoch > first


def test_a_shared_playground_gives_every_tab_one_run(browser):
    from chainrule.live import playground as start

    with start(open_browser=False, port=0, shared=True) as handle:
        context = browser.new_context()
        tabs = [context.new_page() for _ in range(2)]
        for tab in tabs:
            tab.goto(handle.url)
            tab.wait_for_function("window.playground && window.playground.stats.drawn > 0")
        tabs[0].get_by_test_id("step").click()
        tabs[1].wait_for_function("document.querySelector('[data-testid=epoch]').textContent === '1'")
        assert len(handle.sessions.by_id) == 1 and handle.session.epoch == 1
        context.close()


def test_hovering_a_neuron_shows_its_own_heatmap(page):
    title = page.locator("#view-title")
    assert "P(label = 1)" in title.inner_text()
    page.locator("#network rect[data-layer='1'][data-unit='2']").hover()
    page.wait_for_function(
        "document.querySelector('#view-title').textContent.includes('neuron 2 of layer 1')"
    )
    edge = page.locator("#network path.edge").first
    edge.hover(force=True)
    weight = float(edge.get_attribute("data-weight"))
    assert f"{weight:.4g}"[:4] in page.locator("#tip").inner_text()


def _explain_a_point(page, playground) -> int:
    page.get_by_test_id("step").click()
    wait_epoch(page, "e === 1")
    page.get_by_test_id("explain").click()
    page.wait_for_selector("[data-testid=explain][data-explaining=true]")
    index = _isolated_training_point(playground.session.data)
    point = page.evaluate(f"window.playground.pointPixel('train', {index})")
    page.mouse.click(point["x"], point["y"])
    page.get_by_test_id("explain-panel").locator("[data-key=loss_after]").wait_for()
    return index


def test_the_step_animates_on_the_diagram_with_keys_and_buttons(page, playground):
    _explain_a_point(page, playground)
    bar = page.get_by_test_id("anim-bar")
    stage = lambda: bar.get_attribute("data-stage")  # noqa: E731
    assert bar.is_visible() and stage() == "input:0"
    page.keyboard.press("ArrowRight")
    assert stage() == "forward:1"
    # the values flowing in: the inputs and layer 1's outputs, as labels on the nodes
    labels = page.locator("#network text.anim")
    assert labels.count() == 2 + 8
    assert page.locator("[data-testid=explain-panel] .lit").get_attribute("data-stage") == "forward:1"
    assert page.locator("#network path.edge.anim-on").count() == 2 * 8
    expected = [
        "forward:2",
        "forward:3",
        "loss:3",
        "delta:3",
        "delta:2",
        "delta:1",
        "update:1",
        "update:2",
        "update:3",
        "done:3",
    ]
    seen = []
    for _ in expected:
        page.get_by_test_id("anim-next").click()
        seen.append(stage())
        if stage() == "delta:2":
            assert page.locator("#network text.anim.delta").count() == 1 + 8
    assert seen == expected
    page.keyboard.press("ArrowLeft")
    assert stage() == "update:3"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert stage() == "update:1"
    edges = page.locator("#network path.edge.anim-on")
    assert edges.count() == 2 * 8
    changes = [float(v) for v in edges.evaluate_all("es => es.map(e => e.dataset.change)")]
    assert all(np.isfinite(changes)) and any(c != 0 for c in changes)
    page.keyboard.press(" ")  # space plays the stages on; space again pauses
    page.wait_for_function("document.querySelector('[data-testid=anim-bar]').dataset.stage === 'update:2'")
    page.keyboard.press(" ")
    page.get_by_test_id("explain-close").click()
    assert not bar.is_visible() and page.locator("#network text.anim").count() == 0
