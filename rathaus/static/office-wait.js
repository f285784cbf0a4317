// The office page's current walk-in wait, kept up to date from the waiting room's board stream.
// Without this script the page shows the wait at the time it was loaded.
(function () {
  "use strict";
  var region = document.getElementById("walk-in-wait");
  if (!region || !window.EventSource) { return; }
  var source = new EventSource(region.getAttribute("data-events"));
  source.addEventListener("update", function (event) {
    var board = JSON.parse(event.data);
    var minutes = board.walk_in_wait_minutes;
    var text = board.open_now && minutes !== null
      ? region.getAttribute("data-wait").replace("{minutes}", String(minutes))
      : region.getAttribute("data-closed");
    if (region.textContent !== text) { region.textContent = text; }
  });
})();
