#!/usr/bin/python3
"""Drives one headless Chromium over the DevTools protocol through the console's pages.

Usage: console_browser.py BASE_URL SPEC_JSON OUTPUT_JSON
SPEC is a list of {"path": "/x"} or {"follow": "/area/"} (the first link with that prefix on the
page visited before), each with "expect": [texts]. Every page is loaded at 375 and 1280 px wide;
for each load the output records the widths, the failed requests and the expected texts missing
from the rendered DOM (body text and SVG titles). One browser process serves the whole run.
"""
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

import websockets

WIDTHS = (375, 1280)


class Page:
    def __init__(self, socket):
        self.socket = socket
        self.next_id = 0
        self.events = []

    async def call(self, method, **params):
        self.next_id += 1
        ident = self.next_id
        await self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), 60))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    async def wait_for(self, method, timeout=60):
        while True:
            for index, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(index)
            message = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
            self.events.append(message)


SCRIPT = """JSON.stringify({
  scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
  text: document.body ? document.body.innerText : '',
  svg: Array.from(document.querySelectorAll('svg title, svg desc')).map(e => e.textContent).join('\\n'),
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))
})"""


async def load(page, url, width):
    page.events.clear()
    await page.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1, mobile=width < 600)
    await page.call("Page.navigate", url=url)
    await page.wait_for("Page.loadEventFired")
    # Let late events (favicon, failures) arrive before they are counted.
    await asyncio.sleep(0.3)
    try:
        while True:
            page.events.append(json.loads(await asyncio.wait_for(page.socket.recv(), 0.2)))
    except asyncio.TimeoutError:
        pass
    result = await page.call("Runtime.evaluate", expression=SCRIPT, returnByValue=True)
    state = json.loads(result["result"]["value"])
    failed = []
    requested = {}
    for event in page.events:
        params = event.get("params", {})
        if event.get("method") == "Network.requestWillBeSent":
            requested[params["requestId"]] = params["request"]["url"]
        elif event.get("method") == "Network.loadingFailed":
            failed.append(f"{requested.get(params['requestId'], '?')}: {params.get('errorText')}")
        elif event.get("method") == "Network.responseReceived" and params["response"]["status"] >= 400:
            failed.append(f"{params['response']['url']}: HTTP {params['response']['status']}")
    state["failed"] = failed
    # data: URLs are the browser's own (its error pages' pictures), not requests to anyone.
    state["requests"] = sorted(url for url in set(requested.values()) if not url.startswith("data:"))
    return state


async def run(base, spec):
    profile = tempfile.mkdtemp(prefix="ntmwatch-chromium-")
    browser = subprocess.Popen(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "--no-first-run", "--accept-lang=vi-VN,vi", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        port = None
        for line in browser.stderr:
            found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if found:
                port = found.group(1)
                break
        if port is None:
            raise RuntimeError("chromium did not start its DevTools listener")
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        target = next(t for t in targets if t["type"] == "page")
        async with websockets.connect(target["webSocketDebuggerUrl"], max_size=64 << 20) as socket:
            page = Page(socket)
            await page.call("Page.enable")
            await page.call("Network.enable")
            await page.call("Network.setCacheDisabled", cacheDisabled=True)
            results, links = [], []
            for step in spec:
                if "path" in step:
                    path = step["path"]
                else:
                    path = next((link for link in links if link.startswith(step["follow"])), None)
                    if path is None:
                        results.append({"path": f"(no link starting {step['follow']})", "width": 0, "failed": ["no such link"],
                                        "missing": step["expect"], "scrollWidth": 0, "innerWidth": 0})
                        continue
                for width in WIDTHS:
                    state = await load(page, base + path, width)
                    rendered = state["text"] + "\n" + state["svg"]
                    results.append({"path": path, "width": width, "scrollWidth": state["scrollWidth"],
                                    "innerWidth": state["innerWidth"], "failed": state["failed"],
                                    "requests": state["requests"],
                                    "missing": [text for text in step["expect"] if text not in rendered]})
                links = state["links"]
            return results
    finally:
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()
        shutil.rmtree(profile, ignore_errors=True)


def main():
    base, spec_path, output = sys.argv[1:4]
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    results = asyncio.run(run(base, spec))
    with open(output, "w", encoding="utf-8") as f:
        json.dump(results, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
