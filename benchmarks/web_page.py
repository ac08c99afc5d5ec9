"""Web page benchmark: the run page's time to first render and the bytes it loads.

Starts `ade api start` and `ade worker start` (SQLite, local storage, temp data dir), runs a
realistic export (a title row, 300 staff rows with a few bad values, a second sheet), then
loads pages in Debian's headless Chromium (Playwright, /usr/bin/chromium) and reads the
browser's own Navigation/Paint/Resource Timing:

- the sign-in page: the floor (same stylesheet and script, almost no server work);
- the run page with a cold cache (a new browser context per load);
- the run page again in the same context (assets from the cache).

Prints medians of --loads loads: first contentful paint, the server's time to the first byte of
the HTML, DOMContentLoaded, load, and the bytes transferred (HTML, CSS + JS).
`--screenshot PATH` also saves the run page as a PNG (the README's).

    ./pants run benchmarks/web_page.py -- [--loads 9] [--screenshot docs/run-page.png]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from openpyxl import Workbook
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = os.environ.get("ADE_TEST_CHROMIUM", "/usr/bin/chromium")
METRICS = """async () => {
  const paints = await new Promise((resolve) => {
    const found = performance.getEntriesByName("first-contentful-paint");
    if (found.length) return resolve(found);
    new PerformanceObserver((list) => resolve(list.getEntries()))
      .observe({ type: "paint", buffered: true });
  });
  const fcp = paints.find((entry) => entry.name === "first-contentful-paint");
  const nav = performance.getEntriesByType("navigation")[0];
  const assets = performance.getEntriesByType("resource")
    .filter((r) => r.name.includes("/static/"));
  return {
    fcp: fcp.startTime,
    server: nav.responseStart - nav.requestStart,
    dcl: nav.domContentLoadedEventEnd,
    load: nav.loadEventEnd,
    html_transfer: nav.transferSize,
    html_body: nav.decodedBodySize,
    asset_transfer: assets.reduce((sum, r) => sum + r.transferSize, 0),
    asset_body: assets.reduce((sum, r) => sum + r.decodedBodySize, 0),
    requests: 1 + assets.length,
  };
}"""


def env_for(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env["ADE_DATA_DIR"] = str(data_dir)
    return env


def ade(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ade.cli.commands.main", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"ade {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def staff_export() -> bytes:
    book = Workbook()
    staff = book.active
    assert staff is not None
    staff.title = "Staff"
    staff.append(["Staff list, exported from HR on 2024-03-01"])
    staff.append([])
    staff.append(["Full Name", "E-mail", "Department", "Hire Date", "Phone", "Employee No."])
    departments = ["Finance", "Sales", "Operations", "People", "IT"]
    for number in range(300):
        email = f"person{number}@example.org" if number % 37 else f"person{number} at example"
        staff.append(
            [
                f"Person {number} Example",
                email,
                departments[number % 5],
                f"20{10 + number % 14}-{1 + number % 12:02}-{1 + number % 28:02}",
                f"+1 555 01{number % 100:02}",
                1000 + number,
            ]
        )
    sites = book.create_sheet("Sites")
    sites.append(["Site", "Contact Email", "Opened"])
    for number in range(12):
        sites.append([f"Site {number}", f"site{number}@example.org", f"01/0{1 + number % 9}/2020"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def start(
    env: dict[str, str], *args: str, wait_for: str | None
) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "ade.cli.commands.main", *args],
        env=env,
        stdout=subprocess.PIPE if wait_for else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if wait_for else subprocess.DEVNULL,
        text=True,
    )
    if not wait_for:
        return process, ""
    assert process.stdout is not None
    for line in process.stdout:
        match = re.search(wait_for, line)
        if match:
            subprocess.Popen(["cat"], stdin=process.stdout, stdout=subprocess.DEVNULL)
            return process, match.group(1)
    raise SystemExit("the API did not start")


def measure(browser: Browser, url: str, state: Any, loads: int, warm: bool) -> dict[str, float]:
    samples: list[dict[str, float]] = []
    context = browser.new_context(storage_state=state, viewport={"width": 1280, "height": 900})
    for _ in range(loads):
        if not warm:
            context.close()
            context = browser.new_context(
                storage_state=state, viewport={"width": 1280, "height": 900}
            )
        page = context.new_page()
        if warm:
            page.goto(url, wait_until="load")  # fill the cache, then measure a second load
        page.goto(url, wait_until="load")
        samples.append(page.evaluate(METRICS))
        page.close()
    context.close()
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=9, help="page loads per case")
    parser.add_argument("--screenshot", type=Path, help="save the run page here (PNG)")
    options = parser.parse_args()
    if not Path(CHROMIUM).is_file():
        raise SystemExit(f"{CHROMIUM} not found: apt-get install -y chromium")

    with tempfile.TemporaryDirectory(prefix="ade-web-bench-") as folder:
        env = env_for(Path(folder) / "data")
        ade(env, "db", "migrate")
        ade(env, "workspace", "create", "Acme People Ops", "--slug", "acme")
        key = ade(env, "apikey", "create", "--workspace", "acme")
        api, base = start(env, "api", "start", "--port", "0", wait_for=r"running on (\S+)")
        worker, _ = start(env, "worker", "start", wait_for=None)
        try:
            with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as client:
                uploaded = client.post(
                    "/api/v1/workspaces/acme/documents",
                    params={"process": "true"},
                    files={"file": ("staff export March.xlsx", staff_export())},
                ).json()
                run_id = uploaded["run"]["id"]
                deadline = time.monotonic() + 300
                while True:
                    status = client.get(f"/api/v1/workspaces/acme/runs/{run_id}").json()["status"]
                    if status in ("succeeded", "failed", "cancelled"):
                        break
                    if time.monotonic() > deadline:
                        raise SystemExit("the run did not finish")
                    time.sleep(0.2)
                if status != "succeeded":
                    raise SystemExit(f"the run {status}")
            run_url = f"{base}/w/acme/runs/{run_id}"
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox"]
                )
                context = browser.new_context()
                page = context.new_page()
                page.goto(f"{base}/sign-in")
                page.get_by_label("API key").fill(key)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url("**/documents")
                state = context.storage_state()
                context.close()
                cases = {
                    "sign-in page (floor), cold cache": measure(
                        browser, f"{base}/sign-in", None, options.loads, warm=False
                    ),
                    "run page, cold cache": measure(
                        browser, run_url, state, options.loads, warm=False
                    ),
                    "run page, warm cache": measure(browser, run_url, state, options.loads, True),
                }
                if options.screenshot:
                    shot = browser.new_context(
                        storage_state=state, viewport={"width": 1280, "height": 1500}
                    ).new_page()
                    shot.goto(run_url, wait_until="load")
                    options.screenshot.parent.mkdir(parents=True, exist_ok=True)
                    shot.screenshot(path=str(options.screenshot))
                browser.close()
        finally:
            for process in (worker, api):
                process.send_signal(signal.SIGINT if process is api else signal.SIGTERM)
                process.wait(timeout=60)

    floor = cases["sign-in page (floor), cold cache"]["fcp"]
    print(f"\nmedians of {options.loads} loads, Chromium headless, loopback\n")
    print(
        "| page | first contentful paint ms | x floor | server ms | DOMContentLoaded ms | load ms "
        "| HTML bytes (transferred) | CSS+JS bytes (transferred) | requests |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, m in cases.items():
        print(
            f"| {name} | {m['fcp']:.0f} | {m['fcp'] / floor:.2f} | {m['server']:.0f} "
            f"| {m['dcl']:.0f} "
            f"| {m['load']:.0f} "
            f"| {m['html_body']:,.0f} ({m['html_transfer']:,.0f}) "
            f"| {m['asset_body']:,.0f} ({m['asset_transfer']:,.0f}) | {m['requests']:.0f} |"
        )


if __name__ == "__main__":
    main()
