"""axe-core on every page the browser tests see (axe.min.js as bundled by
axe-playwright-python). Loaded as a pytest plugin from conftest.py.

`AxeChecker.watch` puts axe into every document of a browser context (an init script, which
the pages' Content-Security-Policy does not apply to) and runs it when the document has
loaded; the page reports what it found on its console. A navigation away from a page waits
until that page's report is in (a route on the context holds the request), so no page goes
unchecked however quickly a test leaves it. At the end of the test, conftest's `new_page`
checks each page once more as the test left it, and the `axe` fixture fails the test listing
every violation: rule, impact, element and URL.

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
REPORT = "avhopp-axe:"  # marks the console message carrying a page's findings
REPORT_WAIT_SECONDS = 20

# In every document: `__avhoppAxe()` runs axe once the previous run is over (axe refuses to
# run twice at once) and answers the violations, one entry an element; the top document runs
# it at its load event and reports on the console. axe itself is compiled at its first run,
# not as each document starts, so that the pages' own scripts run at their usual pace.
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
  if (window.top !== window) return;
  const report = found => console.debug($mark + JSON.stringify({url: location.href, ...found}));
  addEventListener("load", () => run().then(
    violations => report(violations === null ? {skipped: true} : {violations}),
    error => report({error: String(error)}),
  ), {once: true});
})();
""").substitute(axe=AXE_SCRIPT, options=json.dumps(AXE_OPTIONS), mark=json.dumps(REPORT))


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    target: str
    url: str
    help: str

    def __str__(self) -> str:
        return f"{self.rule} ({self.impact}) at {self.target} on {self.url}: {self.help}"


def _is_report(message: ConsoleMessage) -> bool:
    return message.text.startswith(REPORT)


class AxeChecker:
    """Runs axe on the pages of the contexts it watches and keeps what it finds."""

    def __init__(self) -> None:
        self._found: dict[Violation, None] = {}  # ordered, without repeats
        self._problems: list[str] = []
        self._unreported: set[Page] = set()  # pages showing a document not yet checked
        self.checked: list[str] = []  # the URL of every check, in order

    def watch(self, context: BrowserContext) -> None:
        context.add_init_script(script=_RUNNER)
        context.on("console", self._on_console)
        context.on("page", self._on_page)
        context.route("**/*", self._before_request)

    def _on_page(self, page: Page) -> None:
        # A new document (not a move within one, as to an #anchor), whose report will follow.
        page.on("domcontentloaded", self._on_document)

    def _on_document(self, page: Page) -> None:
        if page.url.startswith("http"):
            self._unreported.add(page)

    def _on_console(self, message: ConsoleMessage) -> None:
        if not _is_report(message):
            return
        if message.page is not None:
            self._unreported.discard(message.page)
        report = json.loads(message.text.removeprefix(REPORT))
        if "error" in report:
            self._problems.append(f"axe failed on {report['url']}: {report['error']}")
        elif not report.get("skipped"):
            self._keep(report["url"], report["violations"])

    def _before_request(self, route: Route) -> None:
        request = route.request
        if request.is_navigation_request() and request.frame.parent_frame is None:
            self._await_report(request.frame.page)
        route.fallback()

    def _await_report(self, page: Page) -> None:
        # Waiting on a console event is the client's own affair: it goes on while the
        # navigation is held. In short waits, as the report may come in just before one.
        deadline = time.monotonic() + REPORT_WAIT_SECONDS
        while page in self._unreported and not page.is_closed():
            if time.monotonic() > deadline:
                self._problems.append(f"no axe report from {page.url}")
                self._unreported.discard(page)
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
        as a form opened in place); return the violations, which are also kept."""
        self._await_report(page)
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

    @property
    def found(self) -> list[Violation]:
        return list(self._found)

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
