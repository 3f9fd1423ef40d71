"""The one way the tests launch a browser: Debian's chromium driven by PyPI's playwright (never
a downloaded browser), with no background traffic on this offline machine."""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
