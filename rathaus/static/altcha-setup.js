// The ALTCHA widget solves challenges in a web worker. Its build for a strict CSP brings none: this registers ours,
// a file from our own origin (so the CSP's script-src 'self' covers it and no blob: worker is needed).
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.getAttribute("data-worker");
  if (!url || !globalThis.$altcha) {
    return;
  }
  globalThis.$altcha.algorithms.set("SHA-256", function () {
    return new Worker(url);
  });
  // A form sent while the check still runs would arrive without its answer and be refused: hold it until the
  // widget has solved (restarting a check that failed or expired), then send it as the citizen asked.
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var widget = form.querySelector("altcha-widget");
      var answer = form.querySelector('input[name="altcha"]');
      if (!widget || (answer && answer.value)) {
        return;
      }
      event.preventDefault();
      var submitter = event.submitter;
      widget.addEventListener(
        "verified",
        function () {
          form.requestSubmit(submitter || undefined);
        },
        { once: true },
      );
      if (widget.getState && ["unverified", "error", "expired"].indexOf(widget.getState()) >= 0) {
        widget.verify();
      }
    },
    true,
  );
})();
