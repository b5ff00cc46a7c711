"""A minimal Chrome DevTools Protocol driver for the dashboard benchmark: Chromium without Playwright.

Playwright enables the Network domain on every page it drives, and then DevTools copies every WebSocket
frame the page receives into a ``Network.webSocketFrameReceived`` event. At 10,000 agents that is 4.6 MB
a second, serialised on the page's main thread and parsed again by the Playwright driver on the same two
cores: in a bare page receiving the synthetic site's messages, each message blocked the main thread about
250 ms with the domain enabled against about 55 ms without it (JSON.parse included). No supervisor's
browser pays that, so the benchmark drives Chromium itself, with only the domains it needs (Page,
Runtime, Emulation, Profiler); the end-to-end tests keep Playwright.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

# As Playwright launches Chromium headless, for the switches that change how a page runs.
BASE_ARGS = ["--headless", "--hide-scrollbars", "--mute-audio", "--disable-background-timer-throttling",
             "--disable-backgrounding-occluded-windows", "--disable-renderer-backgrounding",
             "--disable-ipc-flooding-protection", "--disable-hang-monitor", "--disable-dev-shm-usage",
             "--disable-extensions", "--disable-default-apps", "--no-default-browser-check",
             "--force-color-profile=srgb", "--password-store=basic"]  # fmt: skip


class CdpError(RuntimeError):
    """A DevTools command failed, or the page threw while evaluating an expression."""


class _Call:
    __slots__ = ("done", "reply")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.reply: dict[str, Any] = {}


class Browser:
    """Headless Chromium on a DevTools WebSocket; ``close`` stops it and removes its profile."""

    def __init__(self, executable: str, args: Sequence[str] = (), start_timeout_s: float = 30.0) -> None:
        self._profile = Path(tempfile.mkdtemp(prefix="vigie-bench-chromium-"))
        self._process = subprocess.Popen(
            [executable, *BASE_ARGS, *args, "--remote-debugging-port=0", f"--user-data-dir={self._profile}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._ids = 0
        self._lock = threading.Lock()
        self._calls: dict[int, _Call] = {}
        self._listeners: dict[tuple[str | None, str], list[Callable[[dict[str, Any]], None]]] = {}
        try:
            self._ws = self._connect(start_timeout_s)
        except BaseException:
            self.close()
            raise
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.version = str(self.send("Browser.getVersion")["product"]).split("/", 1)[-1]

    def _connect(self, timeout_s: float) -> ClientConnection:
        # Chromium writes the port it chose, and the browser target's path, once it listens.
        active_port = self._profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise CdpError(f"chromium exited with status {self._process.returncode}")
            lines = active_port.read_text().split() if active_port.exists() else []
            if len(lines) >= 2:
                return connect(f"ws://127.0.0.1:{lines[0]}{lines[1]}", max_size=None, open_timeout=timeout_s)
            time.sleep(0.05)
        raise CdpError("chromium did not open its DevTools port")

    def _read(self) -> None:
        try:
            for text in self._ws:
                message = json.loads(text)
                if "id" in message:
                    call = self._calls.pop(message["id"], None)
                    if call:
                        call.reply = message
                        call.done.set()
                    continue
                for listener in self._listeners.get((message.get("sessionId"), message.get("method", "")), []):
                    listener(message.get("params", {}))
        except ConnectionClosed:
            pass
        finally:
            for call in list(self._calls.values()):
                call.reply = {"error": {"message": "the DevTools connection closed"}}
                call.done.set()

    def send(self, method: str, params: dict[str, Any] | None = None, session_id: str | None = None,
             timeout_s: float = 120.0) -> dict[str, Any]:  # fmt: skip
        """Sends one command (to a page's session when ``session_id``) and returns its result."""
        with self._lock:
            self._ids += 1
            call_id = self._ids
            call = self._calls[call_id] = _Call()
        command: dict[str, Any] = {"id": call_id, "method": method, "params": params or {}}
        if session_id:
            command["sessionId"] = session_id
        self._ws.send(json.dumps(command))
        if not call.done.wait(timeout_s):
            raise CdpError(f"{method}: no reply in {timeout_s} s")
        if "error" in call.reply:
            raise CdpError(f"{method}: {call.reply['error'].get('message')}")
        result: dict[str, Any] = call.reply.get("result", {})
        return result

    def on(self, session_id: str | None, method: str, listener: Callable[[dict[str, Any]], None]) -> None:
        """Calls ``listener(params)`` for each ``method`` event (on the reader thread: keep it short)."""
        self._listeners.setdefault((session_id, method), []).append(listener)

    def new_page(self, width: int, height: int, locale: str, timezone_id: str) -> Page:
        """A page in a fresh browser context (its own cookies and storage), sized and localised."""
        context_id = self.send("Target.createBrowserContext", {"disposeOnDetach": True})["browserContextId"]
        target_id = self.send("Target.createTarget", {"url": "about:blank", "browserContextId": context_id})["targetId"]
        session_id = self.send("Target.attachToTarget", {"targetId": target_id, "flatten": True})["sessionId"]
        return Page(self, context_id, target_id, session_id, width, height, locale, timezone_id)

    def close(self) -> None:
        try:
            if hasattr(self, "_ws"):
                self.send("Browser.close", timeout_s=10)
        except CdpError:
            pass
        finally:
            if hasattr(self, "_ws"):
                self._ws.close()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            shutil.rmtree(self._profile, ignore_errors=True)


class Page:
    """One tab. ``errors`` collects the page's uncaught exceptions, as Playwright's "pageerror"."""

    def __init__(self, browser: Browser, context_id: str, target_id: str, session_id: str,
                 width: int, height: int, locale: str, timezone_id: str) -> None:  # fmt: skip
        self._browser = browser
        self._context_id = context_id
        self._target_id = target_id
        self._session_id = session_id
        self.errors: list[str] = []
        browser.on(session_id, "Runtime.exceptionThrown", self._on_exception)
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})  # fmt: skip
        self.send("Emulation.setLocaleOverride", {"locale": locale})
        self.send("Emulation.setTimezoneOverride", {"timezoneId": timezone_id})
        user_agent = self.evaluate("navigator.userAgent")
        self.send("Emulation.setUserAgentOverride", {"userAgent": user_agent, "acceptLanguage": locale})

    def _on_exception(self, params: dict[str, Any]) -> None:
        details = params.get("exceptionDetails", {})
        self.errors.append(str(details.get("exception", {}).get("description") or details.get("text")))

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._browser.send(method, params, session_id=self._session_id)

    def add_init_script(self, source: str) -> None:
        """Runs ``source`` in every document of this page before its own scripts."""
        self.send("Page.addScriptToEvaluateOnNewDocument", {"source": source})

    def goto(self, url: str) -> None:
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise CdpError(f"navigation to {url} failed: {result['errorText']}")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (awaited when it is a promise), as JSON."""
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise CdpError(str(details.get("exception", {}).get("description") or details.get("text")))
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout_s: float) -> None:
        """Waits until ``expression`` is truthy, polling; raises CdpError after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if self.evaluate(f"Boolean({expression})"):
                    return
            except CdpError:
                pass  # the document is being replaced (navigation): try again
            if time.monotonic() > deadline:
                raise CdpError(f"timed out waiting for {expression}")
            time.sleep(0.1)

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self._browser.send("Target.closeTarget", {"targetId": self._target_id}, timeout_s=10)
            self._browser.send("Target.disposeBrowserContext", {"browserContextId": self._context_id}, timeout_s=10)
        except CdpError:
            pass
