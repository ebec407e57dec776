"""An HTML file as headless Chromium shows it: the DOM after its scripts ran, what it wrote to the
console (script errors included), and a screenshot if asked for."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
SHOTS = Path(__file__).resolve().parents[1] / "reports" / "screenshots"  # the browser tests' screenshots, for the README


def open_page(path, query: str = "", screenshot=None, size: tuple[int, int] = (1400, 2000),
              timeout: float = 60) -> tuple[str, list[str]]:
    """(DOM, console lines) of the file at path, opened as file://...{query} ("?outcome=failed",
    "#h0"); with screenshot, also a PNG of the window's size there. One Chromium launch."""
    if CHROMIUM is None:
        raise RuntimeError("no chromium on PATH")
    url = Path(path).resolve().as_uri() + query
    with tempfile.TemporaryDirectory(prefix="virtnat-chromium.") as profile:
        command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                   "--disable-background-networking", f"--user-data-dir={profile}", "--virtual-time-budget=5000",
                   "--enable-logging=stderr", "--v=0", "--dump-dom"]
        if screenshot:
            Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
            command += [f"--screenshot={Path(screenshot).resolve()}", f"--window-size={size[0]},{size[1]}"]
        run = subprocess.run([*command, url], capture_output=True, text=True, timeout=timeout, check=False)
    if run.returncode != 0 or not run.stdout:
        raise RuntimeError(f"chromium exited {run.returncode}: {run.stderr.strip()[-500:]}")
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    return run.stdout, console
