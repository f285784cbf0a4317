// The waiting-room display: follows the office's board stream and rewrites the called and next numbers.
(function () {
  var live = JSON.parse(document.getElementById("live-data").textContent);
  var languages = live.languages;
  function fill(template, values) { return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key] == null ? "" : values[key]; }); }
  function say(node, key, values) {
    node.replaceChildren();
    languages.forEach(function (texts, i) {
      var text = fill(texts[key], values || {});
      if (i === 0) { node.append(text); return; }
      var span = document.createElement("span"); span.lang = texts.lang; span.textContent = text;
      node.append(" · ", span);
    });
  }
  function cell(text) { var td = document.createElement("td"); td.textContent = text; return td; }
  function show(board) {
    var called = document.getElementById("called");
    called.replaceChildren.apply(called, board.called.map(function (c) {
      var tr = document.createElement("tr"); tr.append(cell(c.number), cell(c.counter)); return tr;
    }));
    var next = document.getElementById("next");
    next.replaceChildren.apply(next, board.next.map(function (n) {
      var li = document.createElement("li"); li.textContent = n; return li;
    }));
    var wait = document.getElementById("wait");
    if (!board.open_now) { say(wait, "closed"); }
    else if (board.walk_in_wait_minutes === null) { wait.textContent = ""; }
    else { say(wait, "wait", { minutes: board.walk_in_wait_minutes }); }
    document.body.dataset.updated = board.at;
  }
  var source = new EventSource(live.events);
  source.addEventListener("update", function (event) {
    document.getElementById("status").textContent = "";
    show(JSON.parse(event.data));
  });
  source.onerror = function () {
    document.getElementById("status").textContent = languages.map(function (texts) { return texts.offline; }).join(" · ");
  };
})();
