"""What a live page costs: the real server, K Chromium pages on the 2D page, Play, then a window.

    .venv/bin/python scripts/measure_live_view.py [--pages 1] [--seconds 20] [--root .]

Reports, over a window while the pages train (at most PLAYGROUND_MAX_JOBS=2 at once; further pages
wait in the queue, polling only their status):
- the web process's CPU seconds (utime + stime from /proc) per poll and per second per page. A
  poll is one fragment run, as the app logs them with PLAYGROUND_LIVE_LOG (set here); an app
  without that log is counted by the `script_finished` ForwardMsgs its pages receive (Streamlit
  may run several due fragments in one script run, so that count can be lower);
- from the same log, each refresh's own CPU time (time.thread_time() around the part) by part;
- the CPU of the server's child processes (training workers) and of our Chromium, for comparison;
- steps/s shown by the pages against a Trainer alone on the same core (headless);
- Chromium's frames per second (requestAnimationFrame) and long tasks (PerformanceObserver).

It prints a table and writes JSON. A benchmark, not a test: on shared cores expect noise.
With --root another checkout (e.g. `git worktree` of an older commit) is measured the same way.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MAX_JOBS = 2          # trainings at once (PLAYGROUND_MAX_JOBS): with more pages, the others queue
# Counts frames (requestAnimationFrame) and long tasks (> 50 ms on the main thread) from page load.
PROBE_JS = """(() => {
  const s = window.__liveProbe = {times: [], longTasks: []};
  const tick = (t) => { if (s.times.length < 100000) s.times.push(t); requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) s.longTasks.push([e.startTime, e.duration]); })
      .observe({type: 'longtask', buffered: true});
  } catch (e) { s.noLongTasks = String(e); }
})();"""

STEPS_JS = """(() => {
  for (const box of document.querySelectorAll('[data-testid="stMetric"]'))
    if (box.innerText.includes('Steps / s')) return box.querySelector('[data-testid="stMetricValue"]')?.innerText;
  return null;
})()"""


# ------------------------------------------------------------------ the server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinned(core: int | None) -> list[str]:
    taskset = shutil.which("taskset")
    return [taskset, "-c", str(core)] if taskset and core is not None else []


def start_server(root: Path, tmp: Path, core: int | None, options: list[str] = ()) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(tmp / "no-mnist"), "XDG_CACHE_HOME": str(tmp / "cache"),
           "PLAYGROUND_MNIST_MIRRORS": "http://127.0.0.1:9/", "PLAYGROUND_MAX_JOBS": str(MAX_JOBS),
           "PLAYGROUND_LIVE_LOG": str(tmp / "live.log")}
    command = [*pinned(core), sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none",
               "--browser.gatherUsageStats", "false", *(f"--{option}" for option in options)]
    process = subprocess.Popen(command, cwd=root, env=env, stdout=open(tmp / "server.log", "w"),
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5):
                return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"the server did not start: see {tmp / 'server.log'}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS      # utime, stime


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def children_cpu(pid: int) -> dict[int, float]:
    seconds = {}
    for child in descendants(pid):
        try:
            seconds[child] = cpu_seconds(child)
        except OSError:
            pass
    return seconds


def chromium_cpu(profile: Path) -> float:
    """CPU seconds of our Chromium (the browser process started with `profile`, and its renderers,
    GPU and utility processes): unlike frames per second, this does not depend on how much of the
    core other work leaves to the browser."""
    mains = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and f"--user-data-dir={profile}".encode() in (entry / "cmdline").read_bytes():
                mains.append(int(entry.name))
        except OSError:
            continue
    total = 0.0
    for pid in {p for main in mains for p in (main, *descendants(main))}:
        try:
            total += cpu_seconds(pid)
        except OSError:
            pass
    return total


def live_log(path: Path) -> list[tuple[float, str, float]]:
    """(time, part, thread ms) per live refresh the app logged."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        stamp, _page, part, ms = line.split()
        rows.append((float(stamp), part, float(ms)))
    return rows


# ------------------------------------------------------------------ the pages
class PageProbe:
    """One Chromium page on the 2D page: counts the ForwardMsgs it receives."""

    def __init__(self, context, url: str):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        self._parse = ForwardMsg.FromString
        self.fragment_runs = self.full_runs = self.frames = self.bytes = 0
        self.page = context.new_page()
        self.page.add_init_script(PROBE_JS)
        self.page.on("websocket", lambda ws: ws.on("framereceived", self._frame))
        self.page.goto(url)

    def _frame(self, payload) -> None:
        if isinstance(payload, str):
            return
        self.frames += 1
        self.bytes += len(payload)
        message = self._parse(payload)
        if message.WhichOneof("type") == "script_finished":
            if message.script_finished == message.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                self.fragment_runs += 1
            elif message.script_finished == message.FINISHED_SUCCESSFULLY:
                self.full_runs += 1

    def counts(self) -> dict:
        return {"fragment_runs": self.fragment_runs, "full_runs": self.full_runs, "frames": self.frames,
                "bytes": self.bytes, "now_ms": self.page.evaluate("performance.now()")}

    def play(self) -> None:
        self.page.get_by_role("button", name="Play").wait_for(timeout=60_000)
        self.page.get_by_role("button", name="Play").click()

    def steps_per_second(self) -> float | None:
        """The "Steps / s" metric as the page shows it now (None while it shows none)."""
        text = self.page.evaluate(STEPS_JS)
        digits = re.sub(r"[^0-9.]", "", text or "")
        return float(digits) if digits else None

    def smoothness(self, start_ms: float, end_ms: float) -> dict:
        return smoothness(self.page, start_ms, end_ms)


def smoothness(page, start_ms: float, end_ms: float) -> dict:
    """Frames per second and long tasks between two performance.now() readings of a page that
    loaded PROBE_JS (page.add_init_script before goto)."""
    probe = page.evaluate("window.__liveProbe")
    times = [t for t in probe["times"] if start_ms <= t <= end_ms]
    per_second = [sum(1 for t in times if s <= t < s + 1000) for s in range(int(start_ms), int(end_ms) - 999, 1000)]
    gaps = [b - a for a, b in zip(times, times[1:])]
    long_tasks = [d for s, d in probe["longTasks"] if start_ms <= s <= end_ms]
    seconds = (end_ms - start_ms) / 1000
    return {"fps_mean": round(len(times) / seconds, 1),
            "fps_median": statistics.median(per_second) if per_second else None,
            "fps_worst_second": min(per_second) if per_second else None,
            "worst_frame_gap_ms": round(max(gaps), 1) if gaps else None,
            "long_tasks": len(long_tasks), "long_task_ms_per_s": round(sum(long_tasks) / seconds, 1),
            "longest_task_ms": round(max(long_tasks), 1) if long_tasks else 0.0,
            "long_tasks_supported": "noLongTasks" not in probe}


def wait_training(probes: list[PageProbe], at_least: int | None = None, timeout: float = 90) -> None:
    """Until `at_least` pages (default: all) show a training speed; the others wait in the queue."""
    need = len(probes) if at_least is None else at_least
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum((p.steps_per_second() or 0) > 0 for p in probes) >= need:
            return
        probes[0].page.wait_for_timeout(500)
    raise SystemExit("the pages never showed training (Steps / s)")


# ------------------------------------------------------------------ the window
def measure_window(server: subprocess.Popen, probes: list[PageProbe], seconds: float, log: Path,
                   profile: Path) -> dict:
    before = [p.counts() for p in probes]
    cpu0, kids0, browser0, t0 = cpu_seconds(server.pid), children_cpu(server.pid), chromium_cpu(profile), time.time()
    shown = []
    while time.time() - t0 < seconds:
        probes[0].page.wait_for_timeout(1000)       # lets Playwright deliver the websocket events
        shown.append([p.steps_per_second() for p in probes])
    cpu1, kids1, browser1, t1 = cpu_seconds(server.pid), children_cpu(server.pid), chromium_cpu(profile), time.time()
    after = [p.counts() for p in probes]
    script_runs = sum(a["fragment_runs"] - b["fragment_runs"] for a, b in zip(after, before))
    full = sum(a["full_runs"] - b["full_runs"] for a, b in zip(after, before))
    refreshes = [r for r in live_log(log) if t0 <= r[0] <= t1]
    polls = len(refreshes) or script_runs          # the app's log counts fragment runs; else script runs
    web_cpu, wall = cpu1 - cpu0, t1 - t0
    return {
        "seconds": round(wall, 2), "pages": len(probes), "polls": polls, "polls_counted_by": "app log" if refreshes
        else "websocket", "fragment_script_runs": script_runs, "full_reruns": full,
        "polls_per_s_per_page": round(polls / wall / len(probes), 2),
        "web_cpu_s": round(web_cpu, 3),
        "web_cpu_ms_per_poll": round(1000 * web_cpu / polls, 2) if polls else None,
        "web_cpu_ms_per_s_per_page": round(1000 * web_cpu / wall / len(probes), 1),
        "workers_cpu_s": round(sum(kids1.get(pid, 0) - kids0.get(pid, 0) for pid in kids1), 3),
        "browser_cpu_ms_per_s_per_page": round(1000 * (browser1 - browser0) / wall / len(probes), 1),
        "received_kb_per_s_per_page": round(sum(a["bytes"] - b["bytes"] for a, b in zip(after, before))
                                            / wall / len(probes) / 1000, 1),
        "refresh_thread_ms": _by_part(refreshes),
        "steps_per_s_shown": _median([v for row in shown for v in row if v]),
        "browser": [p.smoothness(b["now_ms"], a["now_ms"]) for p, b, a in zip(probes, before, after)],
    }


def _by_part(refreshes: list[tuple[float, str, float]]) -> dict:
    parts: dict[str, list[float]] = {}
    for _, part, ms in refreshes:
        parts.setdefault(part, []).append(ms)
    table = {part: {"runs": len(v), "median_ms": round(statistics.median(v), 2), "mean_ms": round(statistics.mean(v), 2)}
             for part, v in sorted(parts.items())}
    every = [ms for _, _, ms in refreshes]
    if every:
        table["all"] = {"runs": len(every), "median_ms": round(statistics.median(every), 2),
                        "mean_ms": round(statistics.mean(every), 2)}
    return table


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


# ------------------------------------------------------------------ headless
HEADLESS = """
import sys, time
sys.path.insert(0, sys.argv[1])
from playground import config as cfg
from playground.training import Trainer
config = cfg.from_dict({"epochs": 10000, **{k: v for k, v in (p.split("=") for p in sys.argv[3:])}}, cfg.Config())
trainer = Trainer(config)
end = time.perf_counter() + float(sys.argv[2])
while time.perf_counter() < end:
    trainer.run_epoch()
print(trainer.steps / trainer.train_seconds)
"""


def headless_steps_per_second(root: Path, seconds: float, core: int | None, settings: dict) -> float:
    """A Trainer alone, one thread, on the server's core: what training does with nobody watching."""
    args = [f"{k}={v}" for k, v in settings.items()]
    out = subprocess.run([*pinned(core), sys.executable, "-c", HEADLESS, str(root), str(seconds), *args],
                         capture_output=True, text=True, check=True, cwd=root)
    return round(float(out.stdout.strip().splitlines()[-1]), 1)


# ------------------------------------------------------------------ report
def table(report: dict) -> str:
    w = report["window"]
    browser = w["browser"]
    rows = [
        (f"pages (at most {MAX_JOBS} train, the others queue)", w["pages"]),
        ("window (s)", w["seconds"]),
        (f"polls (fragment runs, from the {w['polls_counted_by']})", w["polls"]),
        ("polls per second per page", w["polls_per_s_per_page"]),
        ("script runs for polls / full reruns (websocket)", f"{w['fragment_script_runs']} / {w['full_reruns']}"),
        ("web process CPU per poll (ms)", w["web_cpu_ms_per_poll"]),
        ("web process CPU per second per page (ms)", w["web_cpu_ms_per_s_per_page"]),
        ("worker processes CPU (s)", w["workers_cpu_s"]),
        ("received per page (KB/s)", w["received_kb_per_s_per_page"]),
        ("Chromium CPU per second per page (ms)", w["browser_cpu_ms_per_s_per_page"]),
    ]
    rows += [(f"refresh thread time, {part} (runs, median ms)", f"{v['runs']}, {v['median_ms']}")
             for part, v in w["refresh_thread_ms"].items()]
    rows += [
        ("steps/s shown by the pages (median)", w["steps_per_s_shown"]),
        ("steps/s headless (Trainer alone)", report["headless_steps_per_s"]),
        ("browser fps, median second (per page)", [b["fps_median"] for b in browser]),
        ("browser fps, worst second (per page)", [b["fps_worst_second"] for b in browser]),
        ("long tasks (per page)", [b["long_tasks"] for b in browser]),
        ("long-task ms per second (per page)", [b["long_task_ms_per_s"] for b in browser]),
        ("longest task ms (per page)", [b["longest_task_ms"] for b in browser]),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1, help="browser pages training at once (default 1)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the measured window")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of training before the window")
    parser.add_argument("--dataset", default="xor", help="the 2D data set the pages train on")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose app is measured")
    parser.add_argument("--json", type=Path, default=ROOT / "test-artifacts" / "live_view.json")
    parser.add_argument("--no-split-cores", action="store_true",
                        help="do not pin the server to core 0 and Chromium to core 1")
    parser.add_argument("--headless-seconds", type=float, default=10.0)
    parser.add_argument("--streamlit-option", action="append", default=[], metavar="NAME=VALUE",
                        help="passed to streamlit run, e.g. runner.postScriptGC=false")
    args = parser.parse_args()
    split = not args.no_split_cores and (os.cpu_count() or 1) >= 2 and shutil.which("taskset")
    server_core, browser_core = (0, 1) if split else (None, None)
    settings = {"dataset": args.dataset, "epochs": 10000}
    report = {"root": str(args.root.resolve()), "settings": settings, "streamlit_options": args.streamlit_option,
              "cpu_count": os.cpu_count(),
              "split_cores": bool(split), "load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        report["window"] = run_pages(args, Path(tmp), settings, server_core, browser_core)
    report["headless_steps_per_s"] = headless_steps_per_second(args.root.resolve(), args.headless_seconds,
                                                               server_core, settings)
    report["load_average_after"] = os.getloadavg()
    print(table(report))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print(f"\nJSON: {args.json}")
    return 0


def run_pages(args, tmp: Path, settings: dict, server_core: int | None, browser_core: int | None) -> dict:
    from playwright.sync_api import sync_playwright
    server, url = start_server(args.root.resolve(), tmp, server_core, args.streamlit_option)
    try:
        with sync_playwright() as p:
            profile = tmp / "profile"
            context = p.chromium.launch_persistent_context(str(profile), headless=True, args=BROWSER_ARGS,
                                                           executable_path=browser_wrapper(tmp, browser_core),
                                                           viewport={"width": 1440, "height": 1700})
            query = "&".join(f"{k}={v}" for k, v in settings.items())
            probes = [PageProbe(context, f"{url}/?{query}") for _ in range(args.pages)]
            for probe in probes:
                probe.play()
            wait_training(probes, min(args.pages, MAX_JOBS))
            probes[0].page.wait_for_timeout(1000 * args.warmup)
            window = measure_window(server, probes, args.seconds, tmp / "live.log", profile)
            context.close()
        return window
    finally:
        server.terminate()
        server.wait(30)


def browser_wrapper(tmp: Path, core: int | None) -> str:
    if core is None:
        return CHROMIUM
    wrapper = tmp / "chromium-pinned"
    wrapper.write_text(f'#!/bin/sh\nexec {" ".join(pinned(core))} {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


if __name__ == "__main__":
    sys.exit(main())
