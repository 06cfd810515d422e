"""Stress the live view's phase changes in real Chromium: PAGES pages press Play, Step, Step,
Reset in a loop for SECONDS seconds on a server with 2 training slots, and every page error
(e.g. "Cannot set a node at a delta path") is counted. A benchmark-style check, not a test.

    PAGES=4 SECONDS=120 .venv/bin/python scripts/phase_stress.py
"""
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from classroom import Server   # noqa: E402
from playwright.async_api import async_playwright   # noqa: E402

PAGES = int(os.environ.get("PAGES", 4)); SECONDS = float(os.environ.get("SECONDS", 90))
errors = []

async def student(browser, url, i, stats):
    ctx = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await ctx.new_page()
    page.on("pageerror", lambda e: errors.append((i, time.time(), str(e)[:200])))
    page.on("console", lambda m: errors.append((i, time.time(), "console: " + m.text[:200])) if m.type == "error" else None)
    await page.goto(f"{url}/?dataset={['xor','spiral','circle','gauss'][i%4]}&seed={i+1}&epochs=6&device=cpu")
    play = page.get_by_role("button", name="Play", exact=True)
    step = page.get_by_role("button", name="Step", exact=True)
    reset = page.get_by_role("button", name="Reset", exact=True)
    await play.wait_for(timeout=60000)
    end = time.time() + SECONDS
    n = 0
    while time.time() < end:
        try:
            action = ["play", "step", "step", "reset"][n % 4]
            btn = {"play": play, "step": step, "reset": reset}[action]
            await btn.click(timeout=30000)
            n += 1
            stats[i] = n
            # wait until resting again (Play enabled)
            t0 = time.time()
            while time.time() - t0 < 60:
                await asyncio.sleep(0.3)
                if await play.is_enabled():
                    break
            await asyncio.sleep([0.1, 0.6, 1.3][n % 3])
        except Exception as e:
            errors.append((i, time.time(), f"driver: {str(e)[:200]}"))
            break
    await ctx.close()

async def main():
    server = Server(slots=2).start()
    url = f"http://127.0.0.1:{server.port}"
    stats = {}
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                              args=["--no-sandbox", "--disable-gpu"])
            await asyncio.gather(*(student(browser, url, i, stats) for i in range(PAGES)))
            await browser.close()
    finally:
        log = server.log()
        server.stop()
    print("actions per page:", stats)
    print("errors:", len(errors))
    for e in errors[:20]:
        print(e)
    print("server log tail:", "\n".join(l for l in log.splitlines() if "Error" in l or "Traceback" in l)[:2000])
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
