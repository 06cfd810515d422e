"""The real thing: `streamlit run app.py` on 127.0.0.1, driven by Debian's Chromium."""
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.alone,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
LIVE_VIEW_SCRIPT = ROOT / "scripts" / "measure_live_view.py"   # its frame and long-task probe
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]


def split_cores() -> tuple[list[str], str]:
    """Server on core 0, browser on core 1 (as if the students' browsers ran on their own
    machines), where taskset and two cores exist; else both share whatever there is."""
    taskset = shutil.which("taskset")
    if not taskset or (os.cpu_count() or 1) < 2:
        return [], CHROMIUM
    wrapper = Path(tempfile.mkdtemp()) / "chromium-core1"
    wrapper.write_text(f'#!/bin/sh\nexec {taskset} -c 1 {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    return [taskset, "-c", "0"], str(wrapper)


SERVER_PREFIX, BROWSER_EXECUTABLE = split_cores()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health_ms(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as response:
        assert response.read() == b"ok"
    return 1000 * (time.perf_counter() - start)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("server")
    port = free_port()
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(tmp / "no-mnist"), "XDG_CACHE_HOME": str(tmp / "cache"),
           "PLAYGROUND_MNIST_MIRRORS": "http://127.0.0.1:9/", "PLAYGROUND_MAX_JOBS": "2"}
    log = open(tmp / "server.log", "w+")
    process = subprocess.Popen([*SERVER_PREFIX, sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                                "--server.address", "127.0.0.1", "--server.headless", "true"],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            health_ms(url)
            break
        except OSError:
            time.sleep(0.3)
    yield url, log
    process.terminate()
    process.wait(20)
    log.seek(0)
    text = log.read()
    assert "Traceback" not in text and "WARNING" not in text and "ERROR" not in text, text
    assert "terminate called" not in text


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(tempfile.mkdtemp(), executable_path=BROWSER_EXECUTABLE, headless=True,
                                                       args=BROWSER_ARGS, viewport={"width": 1440, "height": 1000})
        yield context
        context.close()


def live_view_probe():
    spec = importlib.util.spec_from_file_location("measure_live_view", LIVE_VIEW_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def metric_text(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def test_play_on_the_2d_page_moves_the_loss(server, browser):
    url, _ = server
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page()
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.set_viewport_size({"width": 1440, "height": 1700})   # tall enough for the network diagram
    probe = live_view_probe()
    page.add_init_script(probe.PROBE_JS)                      # counts frames and long tasks
    page.goto(f"{url}/?epochs=2000")                          # still training after the measurement
    page.get_by_role("button", name="Play").wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "playground_2d_ready.png"), full_page=True)
    resting = smoothness(page, probe, 3.0)
    page.get_by_role("button", name="Play").click()
    deadline = time.monotonic() + 20
    first = None
    while time.monotonic() < deadline:
        value = metric_text(page, "Train loss")
        if value != "–":
            first = first or value
            if value != first:
                break
        time.sleep(0.3)
    assert first is not None and value != first, "the train loss never changed"
    smoothness_while_training(page, probe, resting)
    page.screenshot(path=str(ARTIFACTS / "playground_2d.png"), full_page=True)
    deadline = time.monotonic() + 15                  # a rerun may briefly show old and new charts
    while time.monotonic() < deadline:
        drawn = page.evaluate("Array.from(document.querySelectorAll('[data-testid=stPlotlyChart]'))"
                              ".map(chart => chart.querySelectorAll('.main-svg').length > 0)")
        if len(drawn) == 4 and all(drawn):
            break
        time.sleep(0.3)
    assert len(drawn) == 4 and all(drawn), drawn      # surface, loss, accuracy, network diagram
    assert failed == [], failed                       # works offline: nothing fetched from elsewhere
    page.close()


def smoothness(page, probe, seconds: float) -> dict:
    """Frames per second and long tasks (see scripts/measure_live_view.py) over the next seconds."""
    start = page.evaluate("performance.now()")
    page.wait_for_timeout(1000 * seconds)
    return probe.smoothness(page, start, page.evaluate("performance.now()"))


def smoothness_while_training(page, probe, resting: dict, seconds: float = 6.0) -> None:
    """The page stays smooth while it trains: frames per second and long tasks, saved in
    test-artifacts/live_view_browser.json. Only a generous bound is asserted, against the same
    page at rest: the browser shares its core with whatever else runs on the machine."""
    training = smoothness(page, probe, seconds)
    figures = {"resting": resting, "training": training, "load_average": os.getloadavg(),
               "still_training": page.get_by_text("training", exact=True).count() > 0}   # the status line
    (ARTIFACTS / "live_view_browser.json").write_text(json.dumps(figures, indent=2))
    # Measured on 2 shared cores: 60 fps at rest, 17-30 while training (the page before this work:
    # 1-3). The bound only catches a page that stalls, not a busy machine.
    assert training["fps_median"] > min(10, resting["fps_median"] / 3), figures


def test_health_stays_fast_while_sessions_train(server, browser):
    url, _ = server
    pages = []
    for dataset in ("spiral", "circle", "gauss"):      # two train, one waits (PLAYGROUND_MAX_JOBS=2)
        page = browser.new_page()
        page.goto(f"{url}/?dataset={dataset}&epochs=5000")
        page.get_by_role("button", name="Play").click()
        pages.append(page)
    time.sleep(1.0)
    connected = sorted(health_ms(url) for _ in range(40) if time.sleep(0.05) is None)
    epochs = [int(metric_text(page, "Epoch").split(" / ")[0]) for page in pages]
    assert sum(e > 0 for e in epochs) >= 2, epochs            # the health was measured under training
    for page in pages:
        page.close()
    time.sleep(1.5)                                   # let the closed sessions wind down
    training_only = [health_ms(url) for _ in range(40) if time.sleep(0.05) is None]
    (ARTIFACTS / "health_ms.txt").write_text(f"sessions connected: {connected}\n"
                                             f"sessions closed, jobs training: {training_only}\n")
    # On one core shared by two trainings and three live pages the odd answer waits for the CPU
    # (measured here: median 19 ms, p90 169 ms, max ~300 ms): the typical answer must come within
    # 200 ms and none may hang; with the pages closed, every answer within 200 ms.
    assert connected[len(connected) // 2] < 200 and connected[-1] < 3000, connected
    assert max(training_only) < 200, training_only


def test_draw_a_digit_gets_a_prediction(server, browser):
    url, _ = server
    page = browser.new_page()
    page.goto(f"{url}/draw")
    page.get_by_role("button", name="Train a good model for me (about 10-30 s)").click()
    canvas = page.locator("canvas.upper-canvas")
    canvas.wait_for(timeout=90_000)
    box = canvas.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + 0.5 * w, y + 0.15 * h)             # a "1": one long stroke
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x + 0.5 * w, y + (0.15 + 0.7 * i / 20) * h)
    page.mouse.up()
    page.get_by_text("read in").wait_for(timeout=20_000)
    text = page.locator('[data-testid="stMarkdown"]').all_inner_texts()
    assert any(t.startswith("It's a 1") for t in text), text      # the bundled reader, a fixed model
    page.screenshot(path=str(ARTIFACTS / "draw.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 2000})
    page.get_by_role("link", name="Images").click()          # same session: the model trained for Draw
    page.get_by_text("Confusion matrix").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "mnist.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.get_by_role("link", name="About").click()
    page.get_by_text("The maths").wait_for(timeout=30_000)
    page.locator(".katex").first.wait_for(timeout=30_000)
    page.wait_for_timeout(2000)
    page.screenshot(path=str(ARTIFACTS / "about.png"), full_page=True)
    page.close()


@pytest.mark.parametrize("digit", [0, 7])
def test_a_0_and_a_7_drawn_with_the_mouse_are_read_as_drawn(server, browser, digit):
    """The real canvas, a real mouse: the plainest style of each digit (playground.mouse_digits)
    drawn stroke by stroke and read by the bundled reader, a fixed model."""
    from playground.mouse_digits import STYLES
    url, _ = server
    page = browser.new_page()
    page.goto(f"{url}/draw")
    canvas = page.locator("canvas.upper-canvas")
    canvas.wait_for(timeout=90_000)
    box = canvas.bounding_box()
    for path in STYLES[digit][0]:
        (x0, y0), rest = path[0], path[1:]
        page.mouse.move(box["x"] + x0 * box["width"], box["y"] + y0 * box["height"])
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.up()
    page.get_by_text("read in").wait_for(timeout=20_000)
    text = page.locator('[data-testid="stMarkdown"]').all_inner_texts()
    assert any(t.startswith(f"It's a {digit}") for t in text), text
    page.close()


def test_a_race_and_a_classroom_link(server, browser):
    url, _ = server
    page = browser.new_page()
    page.set_viewport_size({"width": 1440, "height": 1500})
    page.goto(f"{url}/?dataset=spiral&n_points=300&epochs=15&hidden=8,8&lr=0.03")
    page.get_by_role("button", name="Play", exact=True).wait_for(timeout=60_000)
    page.get_by_role("link", name="Race and compare").click()   # same session: the race starts from these settings
    page.get_by_role("button", name="Start the race").click(timeout=30_000)
    page.get_by_text("Winner:").wait_for(timeout=120_000)
    page.get_by_text("Compare runs").wait_for(timeout=10_000)
    winner = page.get_by_text("Winner:").inner_text()
    assert any(winner.endswith(f"optimizer = {v}") for v in ("sgd", "sgd+momentum", "adam", "rmsprop")), winner
    for i, value in enumerate(("sgd", "sgd+momentum", "adam", "rmsprop"), 1):   # kept to compare
        page.get_by_title(f"#{i} race: optimizer={value}").wait_for(timeout=10_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "race.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 2600})
    page.wait_for_timeout(1500)
    compare = page.get_by_text("Compare runs").bounding_box()
    page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True,
                    clip={"x": 280, "y": compare["y"] - 20, "width": 1160, "height": 1150})
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.get_by_role("link", name="2D playground").click()        # the teacher's link maker
    page.get_by_text("Classroom link").click(timeout=30_000)
    page.get_by_label("Task for the students").fill("Find the smallest network that separates the spiral")
    page.get_by_label("Task for the students").press("Control+Enter")
    code = page.locator('[data-testid="stSidebar"] [data-testid="stCode"]').first
    page.wait_for_timeout(1000)
    link = code.inner_text().strip()
    assert "classroom=1" in link and "task=Find" in link
    maker = page.locator('[data-testid="stSidebar"] [data-testid="stExpander"]').last
    maker.scroll_into_view_if_needed()
    page.locator('[data-testid="stSidebar"] img').last.wait_for(timeout=10_000)   # the QR code
    maker.screenshot(path=str(ARTIFACTS / "classroom_link.png"))
    student = browser.new_page()
    student.goto(link + "&hide=optimizer,lr" if "hide=" not in link else link)
    student.get_by_text("Find the smallest network that separates the spiral").wait_for(timeout=60_000)
    sidebar = student.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Hidden layers", exact=True).first.wait_for(timeout=30_000)
    shown = sidebar.inner_text()
    assert "Optimizer" not in shown and "Learning rate" not in shown and "Classroom link" not in shown, shown
    student.screenshot(path=str(ARTIFACTS / "classroom_student.png"))
    student.close()
    page.close()


def test_save_then_load_a_model_on_the_2d_page(server, browser, tmp_path):
    url, _ = server
    page = browser.new_page()
    page.goto(f"{url}/?dataset=circle&n_points=200&hidden=5,3&epochs=2")
    page.get_by_role("button", name="Step", exact=True).click(timeout=60_000)
    page.get_by_text("paused").first.wait_for(timeout=60_000)
    page.get_by_text("Save or load the model").click()
    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name="Download this model (.pt)").click()
    saved = tmp_path / "circle.pt"
    download.value.save_as(saved)
    page.close()
    fresh = browser.new_page()                     # another session, default settings
    fresh.goto(url)
    fresh.get_by_text("Save or load the model").click(timeout=60_000)
    box = fresh.locator('[data-testid="stExpander"]').filter(has_text="Save or load the model")
    box.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(saved))
    fresh.get_by_text("Loaded circle.pt").wait_for(timeout=60_000)
    hidden = fresh.locator('[data-testid="stSidebar"]').get_by_role("textbox", name="Hidden layers", exact=True)
    assert hidden.input_value() == "5,3"
    fresh.close()


def test_own_points_upload_and_click_to_add(server, browser, tmp_path):
    """A bad CSV is refused with its message, a good one becomes the page's data, and a click on the
    plane adds a point there (the real file picker and the real plotly click)."""
    url, _ = server
    page = browser.new_page()
    page.goto(url)
    page.get_by_text("Your own data").click(timeout=60_000)
    box = page.locator('[data-testid="stExpander"]').filter(has_text="Your own data")
    picker = box.locator('[data-testid="stFileUploaderDropzoneInput"]')
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n1,2,0\n3,four,1\n")
    picker.set_input_files(str(bad))
    page.get_by_text("line 3: x2 is 'four', which is not a number").wait_for(timeout=30_000)
    good = tmp_path / "rings.csv"
    good.write_text("x1,x2,label\n" + "\n".join(f"{np.cos(a) * r:.3f},{np.sin(a) * r:.3f},{int(r > 2)}" for a, r in
                                                zip(np.linspace(0, 6.28, 40), np.tile([1.0, 3.0], 20))))
    picker.set_input_files(str(good))
    page.get_by_text("Loaded 40 points from rings.csv").wait_for(timeout=30_000)
    page.get_by_text("Your points: 40").wait_for(timeout=30_000)
    editor = page.locator('[data-testid="stPlotlyChart"]').filter(has_text="Your points").locator(".nsewdrag").first
    editor.scroll_into_view_if_needed()
    box = editor.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.3)
    page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.3)
    page.get_by_text("Your points: 41").wait_for(timeout=30_000)
    page.get_by_role("button", name="Play").click(timeout=30_000)
    page.get_by_text("finished").first.wait_for(timeout=120_000)
    assert page.get_by_text("press Reset to apply").count() == 0      # it trained on all 41
    page.screenshot(path=str(ARTIFACTS / "own_points.png"), full_page=True)
    page.get_by_text("Training details").first.click()                # the neuron details, for the README
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Look at a neuron").click()
    page.get_by_role("option", name="layer 1, neuron 3").click()
    page.get_by_text("Gradient norm per layer").wait_for(timeout=30_000)
    page.get_by_text("Its incoming weights").wait_for(timeout=30_000)
    page.set_viewport_size({"width": 1440, "height": 3000})
    page.wait_for_timeout(2000)
    top = page.get_by_text("Look at a neuron").first.bounding_box()["y"]
    page.screenshot(path=str(ARTIFACTS / "neuron_details.png"), full_page=True,
                    clip={"x": 330, "y": top - 10, "width": 1070, "height": 1460})
    page.close()
