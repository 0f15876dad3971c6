"""A headless Chromium driven over the Chrome DevTools Protocol (no WebDriver, no downloads).

``Browser`` starts ``/usr/bin/chromium`` (Debian's package) with a fresh profile and a
DevTools port of its own choosing, attaches to its page over a WebSocket (the
``websockets`` package, already a dependency of ``uvicorn[standard]``) and offers what a
test needs: navigate, evaluate JavaScript, type, press keys, emulate a phone and take
screenshots.
"""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
)
# Non-character keys for Input.dispatchKeyEvent: (code, Windows virtual key code).
KEYS = {
    "Tab": ("Tab", 9), "Enter": ("Enter", 13), "Escape": ("Escape", 27),
    "ArrowLeft": ("ArrowLeft", 37), "ArrowUp": ("ArrowUp", 38), "ArrowRight": ("ArrowRight", 39),
    "ArrowDown": ("ArrowDown", 40),
}


class BrowserError(RuntimeError):
    pass


class Browser:
    def __init__(self, profile: Path, log: Path, binary: Path = CHROMIUM,
                 width: int = 1280, height: int = 900) -> None:
        self.profile = profile
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [str(binary), *FLAGS, f"--user-data-dir={profile}",
             f"--window-size={width},{height}", "about:blank"],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        self._id = 0
        self.events: list[dict[str, Any]] = []
        # websockets >= 17.1 wants connect() used as a context manager; older ones allow it.
        self._stack = contextlib.ExitStack()
        try:
            self.ws = self._stack.enter_context(self._attach(self._port()))
            self.send("Page.enable")
            self.send("Runtime.enable")
        except BaseException:
            self.close()
            raise

    def _port(self) -> int:
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrowserError(
                    f"chromium exited with {self.process.returncode}; see {self.log.name}"
                )
            if marker.exists():
                lines = marker.read_text().split()
                if lines:
                    return int(lines[0])
            time.sleep(0.1)
        raise BrowserError("chromium did not open its DevTools port within 30 s")

    def _attach(self, port: int) -> ClientConnection:
        deadline = time.monotonic() + 30
        while True:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as answer:
                targets = json.load(answer)
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return connect(pages[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=30)
            if time.monotonic() > deadline:
                raise BrowserError("chromium opened no page")
            time.sleep(0.1)

    # -- the protocol ---------------------------------------------------------------------

    def send(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        self._id += 1
        number = self._id
        self.ws.send(json.dumps({"id": number, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            if message.get("id") == number:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (awaited if it is a promise)."""
        answer = self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            raise BrowserError(details.get("exception", {}).get("description") or str(details))
        return answer["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30, what: str = "") -> Any:
        """Poll a JavaScript expression until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = self.evaluate(expression)
            except BrowserError:  # a navigation tore the context down: try again
                last = None
            if last:
                return last
            time.sleep(0.1)
        raise BrowserError(f"timed out waiting for {what or expression} (last value {last!r})")

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", url=url)
        self.wait_loaded(url)

    def wait_loaded(self, url_part: str = "") -> None:
        self.wait_for(
            f"document.readyState === 'complete' && location.href.includes({json.dumps(url_part)})",
            what=f"a page at {url_part!r}",
        )

    def after_navigation(self, action: Callable[[], Any]) -> None:
        """Run ``action`` (a click, a submit) and wait for the page it opens to load."""
        self.evaluate("window.__stale = true")
        action()
        self.wait_for("!window.__stale && document.readyState === 'complete'",
                      what="the next page")

    def press(self, key: str) -> None:
        code, vk = KEYS[key]
        common = {"key": key, "code": code, "windowsVirtualKeyCode": vk,
                  "nativeVirtualKeyCode": vk}
        if key == "Enter":
            self.send("Input.dispatchKeyEvent", type="keyDown", text="\r", **common)
        else:
            self.send("Input.dispatchKeyEvent", type="rawKeyDown", **common)
        self.send("Input.dispatchKeyEvent", type="keyUp", **common)

    def type_text(self, text: str) -> None:
        self.send("Input.insertText", text=text)

    def viewport(self, width: int, height: int, mobile: bool = False, scale: float = 1) -> None:
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=scale, mobile=mobile)

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            size = self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            width = self.evaluate("window.innerWidth")
            params["clip"] = {"x": 0, "y": 0, "width": max(size[0], width),
                              "height": min(size[1], 16000), "scale": 1}
        data = self.send("Page.captureScreenshot", timeout=60, **params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def console_errors(self) -> list[str]:
        """Exceptions thrown and errors logged by the pages so far."""
        found = []
        for event in self.events:
            if event["method"] == "Runtime.exceptionThrown":
                found.append(event["params"]["exceptionDetails"].get("text", "exception"))
            elif (event["method"] == "Runtime.consoleAPICalled"
                  and event["params"].get("type") == "error"):
                found.append(" ".join(str(a.get("value", a.get("description", "")))
                                      for a in event["params"].get("args", [])))
        return found

    def close(self) -> None:
        try:
            if getattr(self, "ws", None) is not None:
                # Closing: the browser may be gone already.
                with contextlib.suppress(Exception):
                    self.send("Browser.close", timeout=5)
                self._stack.close()
        finally:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.log.close()
