// The counter page: single-key shortcuts for the frequent actions (only while no form field has the focus, and
// never with a modifier, so screen-reader and browser keys stay untouched), and the waiting list kept current:
// the waiting room's event stream says when something changed, and the list is fetched again.
(function () {
  "use strict";

  var KEYS = { n: "action-call-next", c: "action-complete", x: "action-no-show", r: "action-recall" };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey || event.repeat) {
      return;
    }
    var target = event.target;
    if (target && target.closest && target.closest("input, textarea, select, [contenteditable], summary")) {
      return;
    }
    var button = document.getElementById(KEYS[(event.key || "").toLowerCase()] || "");
    if (button && !button.disabled) {
      event.preventDefault();
      button.click();
    }
  });

  var section = document.getElementById("live-queue");
  var body = document.getElementById("live-queue-body");
  if (!section || !body || typeof EventSource === "undefined") {
    return;
  }
  var pending = null;

  function refresh() {
    if (pending) { return; }
    pending = fetch(section.dataset.source, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.redirected || !response.ok) { return; }
        return response.text().then(function (html) { body.innerHTML = html; });
      })
      .catch(function () {})
      .then(function () { pending = null; });
  }

  // Each "update" carries the display's content; the list itself comes from the staff page (it names more).
  new EventSource(section.dataset.events).addEventListener("update", refresh);
}());
