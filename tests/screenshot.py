"""Screenshots of a web page with headless Chromium, for the README (the WebUI's Smoothie script and tab).

Uses Debian's ``chromium`` and ``chromium-driver`` (``apt-get install -y chromium chromium-driver``) through
selenium. Steps run in the order given; a *target* is ``css:SELECTOR``, ``text:EXACT TEXT`` (the innermost
visible element with that text), ``xpath:EXPR``, or a bare CSS selector.

    # a page that is already running
    python -m tests.screenshot http://127.0.0.1:7860 out.png --click 'text:Smoothie Dataset'

    # start the WebUI with this checkout (needs A1111_DIR, see tests/a1111.py), pick the script, crop to it
    python -m tests.screenshot --launch / docs/img/script.png \\
        --click 'css:#tab_txt2img #script_list input' --click 'text:Smoothie' --element 'css:#tab_txt2img #script_list'
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")

#: Headless, sandbox-free (root in a container), and nothing that reaches the network by itself.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)

STEP_KINDS = ("click", "scroll", "wait", "sleep", "type")


@dataclass(frozen=True)
class Step:
    kind: str  # one of STEP_KINDS
    arg: str


def parse_target(target: str) -> tuple[str, str]:
    """``css:…`` / ``text:…`` / ``xpath:…`` / bare CSS → (kind, selector); kind is a selenium ``By`` or "text"."""
    kind, sep, rest = target.partition(":")
    if sep and kind in ("css", "xpath", "text"):
        if not rest.strip():
            raise ValueError(f"target={target!r}: nothing after {kind}:")
        return {"css": "css selector", "xpath": "xpath", "text": "text"}[kind], rest
    if not target.strip():
        raise ValueError("target='' is empty: give css:SELECTOR, text:TEXT or xpath:EXPR")
    return "css selector", target


#: The innermost rendered element whose visible text, with leading marks such as gradio's "✓" dropped, is the
#: wanted text.
_FIND_TEXT_JS = """
const want = arguments[0];
const norm = (s) => (s || "").replace(/\\s+/g, " ").trim();
const bare = (s) => norm(s).replace(/^[^\\p{L}\\p{N}]+/u, "");
const hits = [];
for (const el of document.querySelectorAll("body *")) {
  if (!(el.textContent || "").includes(want) || !el.getClientRects().length) continue;
  const t = el.innerText;
  if (norm(t) === want || bare(t) === want) hits.push(el);
}
return hits.find((el) => !hits.some((other) => other !== el && el.contains(other))) || null;
"""


@contextlib.contextmanager
def browser(width: int, height: int) -> Iterator[Any]:
    """A headless Chromium driven by chromedriver, with a throw-away profile."""
    for path, what in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).exists():
            raise FileNotFoundError(f"{path} not found: apt-get install -y {what} (or set {what.upper()})")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.add_argument(f"--window-size={width},{height}")
        driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
        try:
            yield driver
        finally:
            driver.quit()


def _visible(driver: Any, target: str, timeout: float) -> Any:
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    by, selector = parse_target(target)
    if by == "text":
        condition: Any = lambda d: d.execute_script(_FIND_TEXT_JS, selector)  # noqa: E731
    else:
        condition = ec.visibility_of_element_located((by, selector))
    try:
        return WebDriverWait(driver, timeout).until(condition)
    except Exception as exc:
        raise TimeoutError(f"target={target!r}: no visible element after {timeout:.0f} s") from exc


def run_step(driver: Any, step: Step, timeout: float) -> None:
    if step.kind == "sleep":
        time.sleep(float(step.arg))
        return
    if step.kind == "type":
        target, sep, text = step.arg.partition("=")
        if not sep:
            raise ValueError(f"--type {step.arg!r}: expected TARGET=TEXT")
        element = _visible(driver, target, timeout)
        element.clear()
        element.send_keys(text)
        return
    element = _visible(driver, step.arg, timeout)
    if step.kind in ("scroll", "click"):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    if step.kind == "click":
        try:
            element.click()
        except Exception:  # covered by an overlay or tooltip: click through JavaScript instead
            driver.execute_script("arguments[0].click();", element)
        time.sleep(0.3)  # let gradio re-render


def capture(
    url: str,
    out: Path,
    steps: Sequence[Step] = (),
    *,
    element: str | None = None,
    ready: str | None = None,
    width: int = 1400,
    height: int = 1000,
    full_page: bool = False,
    settle: float = 1.0,
    timeout: float = 60.0,
) -> Path:
    """Open ``url``, wait for ``ready``, run ``steps``, and save a PNG of the window or of ``element``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with browser(width, height) as driver:
        driver.set_page_load_timeout(timeout)
        driver.get(url)
        if ready:
            _visible(driver, ready, timeout)
        for step in steps:
            run_step(driver, step, timeout)
        time.sleep(settle)
        if full_page:
            total = int(driver.execute_script("return document.documentElement.scrollHeight"))
            driver.set_window_size(width, max(height, total))
            time.sleep(settle)
        if element:
            node = _visible(driver, element, timeout)
            driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", node)
            ok = node.screenshot(str(out))
        else:
            ok = driver.save_screenshot(str(out))
        if not ok:
            raise RuntimeError(f"out={str(out)!r}: Chromium could not write the screenshot")
    logger.info("wrote %s", out)
    return out


class _StepAction(argparse.Action):
    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: str | None = None) -> None:
        steps = list(getattr(namespace, "steps", None) or [])
        steps.append(Step(self.dest.removeprefix("step_"), str(values)))
        namespace.steps = steps


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.screenshot",
        description="Screenshot a page with headless Chromium.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("url", help="page to open; with --launch, a path on the started WebUI (e.g. /)")
    parser.add_argument("out", type=Path, help="PNG to write")
    parser.add_argument("--click", dest="step_click", action=_StepAction, metavar="TARGET", help="click (in order)")
    parser.add_argument("--scroll", dest="step_scroll", action=_StepAction, metavar="TARGET", help="scroll to")
    parser.add_argument("--wait", dest="step_wait", action=_StepAction, metavar="TARGET", help="wait until visible")
    parser.add_argument("--type", dest="step_type", action=_StepAction, metavar="TARGET=TEXT", help="type text")
    parser.add_argument("--sleep", dest="step_sleep", action=_StepAction, metavar="SECONDS", help="pause")
    parser.add_argument("--element", metavar="TARGET", help="crop the screenshot to this element")
    parser.add_argument("--ready", metavar="TARGET", help="wait for this before the steps")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--full-page", action="store_true", help="grow the window to the page's height")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each target")
    parser.add_argument(
        "--launch",
        action="store_true",
        help="start the WebUI with this checkout first (tests/a1111.py; needs A1111_DIR) and stop it after",
    )
    parser.set_defaults(steps=[])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for step in args.steps:
        if step.kind not in ("sleep", "type"):
            parse_target(step.arg)  # fail before starting anything
    kwargs: dict[str, Any] = {
        "element": args.element,
        "ready": args.ready,
        "width": args.width,
        "height": args.height,
        "full_page": args.full_page,
        "timeout": args.timeout,
    }
    if not args.launch:
        capture(args.url, args.out, args.steps, **kwargs)
        return 0
    from tests import a1111

    host = a1111.locate()
    if host is None:
        print("--launch: A1111_DIR is not set: " + a1111.SETUP_HELP, file=sys.stderr)
        return 2
    with a1111.running(host) as server:
        url = server.base_url + "/" + args.url.lstrip("/")
        # gradio builds the page after load: wait for the txt2img tab unless told otherwise
        kwargs["ready"] = kwargs["ready"] or "css:#tab_txt2img"
        capture(url, args.out, args.steps, **kwargs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
