// Poll a document's status (a referral's, an agreement's) while it is being made, then reload.
(function () {
  "use strict";
  var el = document.getElementById("referral-status");
  if (!el || !el.dataset.pollUrl) { return; }
  var delay = 1000;
  function poll() {
    fetch(el.dataset.pollUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && !data.pending) { window.location.reload(); return; }
        if (data) { el.textContent = data.label; }
        delay = Math.min(delay * 1.5, 10000);
        window.setTimeout(poll, delay);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, delay);
})();
