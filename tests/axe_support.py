"""axe-core on every page the browser tests see (axe.min.js as bundled by
axe-playwright-python). Loaded as a pytest plugin from conftest.py.

`AxeChecker.watch` puts axe into every document of a browser context (an init script, which
the pages' Content-Security-Policy does not apply to). Each HTML document checks itself when
it has loaded, and again whenever a disclosure (`<details>`) opens in it, and reports what it
found on its console; it announces each check as it becomes due. A navigation away from a page
waits until every check due there has been reported (a route on the context holds the
request), so no page goes unchecked however quickly a test leaves it. At the end of the test,
conftest's `new_page` checks each page once more as the test left it, and the `axe` fixture
fails the test listing every violation: rule, impact, element and URL.

Why not run axe from Python at each `load` event: Playwright stalls evaluation in a page
while a navigation from it is pending, so the check would race every click that leaves a page.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from string import Template

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import BrowserContext, ConsoleMessage, Error, Page, Route

# WCAG 2.0 and 2.1, levels A and AA, and axe's own best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
DUE = "avhopp-axe-due:"  # console messages: a check is due,
REPORT = "avhopp-axe-report:"  # and what it found
REPORT_WAIT_SECONDS = 20

# In every document: `__avhoppAxe()` runs axe once the previous run is over (axe refuses to
# run twice at once) and answers the violations, one entry an element. axe itself is compiled
# at its first run, not as each document starts, so that pages' own scripts keep their pace.
# The top HTML document announces its first check at once (check 0: a new document), runs it
# at its load event, and runs another whenever a <details> opens.
_RUNNER = Template("""
(() => {
  const loadAxe = () => { if (!window.axe) { $axe
  } };
  const options = $options;
  const isHtml = () => document.contentType === "text/html" && location.protocol !== "about:";
  const flatten = result => result.violations.flatMap(v => v.nodes.map(node => ({
    rule: v.id, impact: v.impact || "", help: v.help, target: node.target.flat().join(" "),
  })));
  let previous = Promise.resolve();
  const run = () => {
    if (!isHtml()) return Promise.resolve(null);
    loadAxe();
    previous = previous.catch(() => {}).then(() => axe.run(document, options)).then(flatten);
    return previous;
  };
  Object.defineProperty(window, "__avhoppAxe", {value: run});
  if (window.top !== window || !isHtml()) return;
  const doc = Math.random().toString(36).slice(2);
  let checks = 0;
  const say = (mark, what) => console.debug(mark + JSON.stringify({doc, ...what}));
  const due = () => {
    const check = checks++;
    say($due, {check});
    return () => run().then(
      violations => say($report, {check, url: location.href, violations}),
      error => say($report, {check, url: location.href, error: String(error)}),
    );
  };
  addEventListener("load", due(), {once: true});
  addEventListener("toggle", event => event.target.open && due()(), true);
})();
""").substitute(
    axe=AXE_SCRIPT,
    options=json.dumps(AXE_OPTIONS),
    due=json.dumps(DUE),
    report=json.dumps(REPORT),
)


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    target: str
    url: str
    help: str


def _is_report(message: ConsoleMessage) -> bool:
    return message.text.startswith(REPORT)


class AxeChecker:
    """Runs axe on the pages of the contexts it watches and keeps what it finds."""

    def __init__(self) -> None:
        self._found: dict[Violation, None] = {}  # ordered, without repeats
        self._problems: list[str] = []
        self._due: dict[Page, set[tuple[str, int]]] = {}  # checks announced, not reported
        self.checked: list[str] = []  # the URL of every check, in order

    def watch(self, context: BrowserContext) -> None:
        context.add_init_script(script=_RUNNER)
        context.on("console", self._on_console)
        context.route("**/*", self._before_request)

    def _on_console(self, message: ConsoleMessage) -> None:
        page, text = message.page, message.text
        if text.startswith(DUE) and page is not None:
            due = json.loads(text.removeprefix(DUE))
            if due["check"] == 0:  # a new document: what was due in the last one is moot
                self._due[page] = set()
            self._due[page].add((due["doc"], due["check"]))
        elif text.startswith(REPORT):
            report = json.loads(text.removeprefix(REPORT))
            if page is not None:
                self._due.get(page, set()).discard((report["doc"], report["check"]))
            if "error" in report:
                self._problems.append(f"axe failed on {report['url']}: {report['error']}")
            else:
                self._keep(report["url"], report["violations"])

    def _before_request(self, route: Route) -> None:
        request = route.request
        if request.is_navigation_request() and request.frame.parent_frame is None:
            self._await_reports(request.frame.page)
        route.fallback()

    def _await_reports(self, page: Page) -> None:
        # Waiting on a console event is the client's own affair: it goes on while the
        # navigation is held. In short waits, as a report may come in just before one.
        deadline = time.monotonic() + REPORT_WAIT_SECONDS
        while self._due.get(page) and not page.is_closed():
            if time.monotonic() > deadline:
                self._problems.append(f"no axe report from {page.url}")
                self._due[page].clear()
                return
            with contextlib.suppress(Error):  # not yet, or the page closed: looked at above
                page.wait_for_event("console", predicate=_is_report, timeout=250)

    def _keep(self, url: str, violations: list[dict[str, str]]) -> list[Violation]:
        self.checked.append(url)
        url = url.split("#")[0]
        found = [Violation(url=url, **violation) for violation in violations]
        self._found.update(dict.fromkeys(found))
        return found

    def check(self, page: Page) -> list[Violation]:
        """Run axe on what the page shows now (for a state that no navigation leads to, such
        as a change made by a script); return the violations, which are also kept."""
        self._await_reports(page)
        if page.is_closed() or not page.url.startswith("http"):
            return []
        try:
            violations = page.evaluate("() => window.__avhoppAxe ? window.__avhoppAxe() : null")
        except Error:
            if page.is_closed():
                return []
            raise
        if violations is None:  # not an HTML document of ours (a JSON answer, say)
            return []
        return self._keep(page.url, violations)

    def take(self) -> list[Violation]:
        """The violations found so far, no longer held against the test (for a test that
        means to find some)."""
        found = list(self._found)
        self._found.clear()
        return found

    def report(self) -> str:
        """Every problem, and every violation once with the pages it was found on."""
        pages: dict[tuple[str, str, str, str], list[str]] = {}
        for found in self._found:
            pages.setdefault((found.rule, found.impact, found.target, found.help), [])
            pages[(found.rule, found.impact, found.target, found.help)].append(found.url)
        lines = [*self._problems]
        if pages:
            lines.append(f"axe-core found {len(pages)} accessibility violation(s):")
        for (rule, impact, target, help_text), urls in pages.items():
            lines.append(f"  {rule} ({impact}) at {target}: {help_text}")
            lines.append(f"    on {', '.join(dict.fromkeys(urls))}")
        return "\n".join(lines)


@pytest.fixture
def axe() -> Iterator[AxeChecker]:
    """The checker of this test's pages: fails the test at its end if any page had a
    violation. Requested by conftest's `new_page`, so every browser test has it."""
    checker = AxeChecker()
    yield checker
    if checker.report():
        pytest.fail(checker.report(), pytrace=False)
