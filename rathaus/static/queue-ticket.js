// A citizen's ticket page: follows the ticket's stream and says where they stand.
(function () {
  var live = JSON.parse(document.getElementById("live-data").textContent);
  var texts = live.texts;
  function fill(template, values) { return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key] == null ? "" : values[key]; }); }
  function show(view) {
    var message = "", estimate = "";
    if (view.status === "waiting") {
      message = fill(texts.waiting, { position: view.position || "–" });
      estimate = view.estimated_wait_minutes === null ? texts.no_estimate : fill(texts.estimate, { minutes: view.estimated_wait_minutes });
    } else if (view.status === "called") {
      message = fill(texts.called, { counter: view.counter });
      if (navigator.vibrate) { navigator.vibrate([300, 100, 300]); }
    } else { message = texts[view.status] || view.status; }
    document.getElementById("ticket").dataset.status = view.status;
    document.getElementById("message").textContent = message;
    document.getElementById("estimate").textContent = estimate;
    document.getElementById("hint").textContent = texts.live;
  }
  var source = new EventSource(live.events);
  source.addEventListener("update", function (event) { show(JSON.parse(event.data)); });
  source.onerror = function () { document.getElementById("hint").textContent = texts.offline; };
})();
