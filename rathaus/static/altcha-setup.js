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
})();
