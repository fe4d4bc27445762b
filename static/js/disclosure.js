// Forms behind a disclosure (<details>): one sent back with errors is rendered open; bring
// its error summary into view and focus, so it is read first (WCAG 3.3.1). Pages that
// focus it themselves (autofocus) are left as they are.
(function () {
  "use strict";
  var summary = document.querySelector("details[open] .error-summary");
  if (!summary || summary.contains(document.activeElement)) { return; }
  if (!summary.hasAttribute("tabindex")) { summary.setAttribute("tabindex", "-1"); }
  summary.focus();
})();
