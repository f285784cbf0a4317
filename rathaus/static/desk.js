// The front desk: reading a booking's QR code with the device camera (html5-qrcode), and the print button.
// Without a camera or this script the code field still works (typed, or by a handheld scanner that types).
(function () {
  "use strict";

  function setUpScanner() {
    var start = document.getElementById("scan-start");
    var stop = document.getElementById("scan-stop");
    var view = document.getElementById("scanner-view");
    var status = document.getElementById("scan-status");
    var form = document.getElementById("check-in-form");
    var field = document.getElementById("code");
    if (!start || !form || !field || typeof Html5Qrcode === "undefined" ||
        !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return;
    }
    var scanner = null;
    start.hidden = false;
    // On a phone the preview opens below the fold: bring it into view once it shows the camera, so the clerk can
    // aim (media events do not bubble, hence the capture).
    view.addEventListener("playing", function () {
      view.scrollIntoView({ block: "nearest" });
    }, true);

    function finish() {
      var running = scanner;
      scanner = null;
      view.hidden = true;
      stop.hidden = true;
      start.hidden = false;
      return running ? running.stop().catch(function () {}) : Promise.resolve();
    }

    start.addEventListener("click", function () {
      view.hidden = false;
      start.hidden = true;
      stop.hidden = false;
      status.textContent = status.dataset.reading;
      scanner = new Html5Qrcode("scanner-view", { verbose: false });
      scanner.start({ facingMode: "environment" }, { fps: 10, qrbox: 250 }, function (text) {
        if (!scanner) { return; }
        field.value = text;
        finish().then(function () { form.submit(); });
      }).catch(function () {
        status.textContent = status.dataset.failed;
        finish();
        field.focus();
      });
    });
    stop.addEventListener("click", function () {
      status.textContent = "";
      finish().then(function () { start.focus(); });
    });
  }

  function setUpPrint() {
    var button = document.getElementById("print-now");
    if (!button) { return; }
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  }

  setUpScanner();
  setUpPrint();
}());
