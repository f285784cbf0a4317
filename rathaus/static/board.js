// The waiting-room display: keeps the server-rendered board current from its event stream, highlights the
// newest call, and (when switched on) plays a chime and speaks each new call in every language of the board.
// Browsers play sound only after a user gesture, so a button asks for one when sound is wanted.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("board-script").textContent);
  var languages = config.languages;
  var STORE = "rathaus-board-sound";
  var MAX_ANNOUNCED = 3; // a burst of calls (a reconnect after a break) is not read out in full

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key] == null ? "" : values[key]; });
  }

  // Every text in each language: the main one first, the others in spans carrying their lang.
  function say(node, key, values, separator) {
    node.replaceChildren();
    languages.forEach(function (texts, i) {
      var text = fill(texts[key], values || {});
      if (i === 0) { node.append(text); return; }
      var span = document.createElement("span");
      span.lang = texts.lang;
      span.textContent = text;
      node.append(separator, span);
    });
  }

  function cell(text) { var td = document.createElement("td"); td.textContent = text; return td; }

  function callKey(call) { return call.number + "|" + call.called_at + "|" + call.recalls; }

  function openingText(board, texts) {
    var instant = new Date(board.opens_next);
    var day = new Intl.DateTimeFormat(texts.lang, {
      weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: board.time_zone
    }).format(instant);
    var time = new Intl.DateTimeFormat(texts.lang, {
      hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: board.time_zone
    }).format(instant);
    return fill(texts.opens_next, { day: day, time: time });
  }

  function showClosed(board) {
    document.getElementById("closed").hidden = board.open_now;
    var opening = document.getElementById("opening");
    var opens = board.opens_next || "";
    if (opening.getAttribute("data-opens") === opens) { return; }
    opening.setAttribute("data-opens", opens);
    opening.replaceChildren();
    if (!opens) { return; }
    languages.forEach(function (texts, i) {
      var text = openingText(board, texts);
      if (i === 0) { opening.append(text); return; }
      var span = document.createElement("span");
      span.lang = texts.lang;
      span.textContent = text;
      opening.append(" ", span);
    });
  }

  function show(board) {
    var called = document.getElementById("called");
    called.replaceChildren.apply(called, board.called.map(function (c, i) {
      var tr = document.createElement("tr");
      if (i === 0) { tr.className = "is-latest"; }
      tr.append(cell(c.number), cell(c.counter));
      return tr;
    }));
    var next = document.getElementById("next");
    next.replaceChildren.apply(next, board.next.map(function (n) {
      var li = document.createElement("li"); li.textContent = n; return li;
    }));
    var wait = document.getElementById("wait");
    if (!board.open_now || board.walk_in_wait_minutes === null) { wait.replaceChildren(); }
    else { say(wait, "wait", { minutes: board.walk_in_wait_minutes }, " · "); }
    showClosed(board);
    // A closed office with nobody called or waiting shows only when it opens again.
    var idle = !board.open_now && !board.called.length && !board.next.length;
    document.getElementById("calls").hidden = idle;
    document.getElementById("side").hidden = idle;
    document.body.setAttribute("data-open", board.open_now ? "yes" : "no");
    document.body.setAttribute("data-updated", board.at);
  }

  // Sound: the choice comes from the URL (?chime=1&speak=1) or, failing that, from this device's last choice.
  var stored = {};
  try { stored = JSON.parse(window.localStorage.getItem(STORE) || "{}"); } catch (e) { stored = {}; }
  var sound = {
    chime: config.chime !== null ? config.chime : Boolean(stored.chime),
    speak: config.speak !== null ? config.speak : Boolean(stored.speak)
  };
  var audio = null;
  var unlocked = false;
  var panel = document.getElementById("sound");
  var enable = document.getElementById("sound-enable");
  var hint = document.getElementById("sound-hint");
  var chimeBox = document.getElementById("sound-chime");
  var speakBox = document.getElementById("sound-speak");

  function audioContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) { audio = new Context(); }
    return audio;
  }

  function refreshControls() {
    chimeBox.checked = sound.chime;
    speakBox.checked = sound.speak;
    var ctx = (sound.chime || sound.speak) ? audioContext() : audio;
    if (ctx && ctx.state === "running") { unlocked = true; }
    var needed = (sound.chime || sound.speak) && !unlocked;
    enable.hidden = !needed;
    hint.hidden = !needed;
    document.body.setAttribute("data-sound", (sound.chime ? "chime " : "") + (sound.speak ? "speak" : ""));
  }

  function remember() {
    try { window.localStorage.setItem(STORE, JSON.stringify(sound)); } catch (e) { /* private mode: not kept */ }
    refreshControls();
  }

  chimeBox.addEventListener("change", function () { sound.chime = chimeBox.checked; remember(); });
  speakBox.addEventListener("change", function () { sound.speak = speakBox.checked; remember(); });
  enable.addEventListener("click", function () {
    var ctx = audioContext();
    if (ctx) { ctx.resume(); }
    if (window.speechSynthesis) { window.speechSynthesis.speak(new SpeechSynthesisUtterance("")); }
    unlocked = true;
    refreshControls();
    panel.querySelector("summary").focus();
  });

  function chime() {
    var ctx = audioContext();
    if (!ctx) { return; }
    [[659.25, 0], [523.25, 0.45]].forEach(function (tone) {
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      var start = ctx.currentTime + tone[1];
      osc.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.4, start + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.9);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(start + 1);
    });
  }

  // "W-042" is read as "W 42", not as "W minus zero four two".
  function spokenNumber(number) { return number.replace(/^([A-Za-z]+)-0*(\d+)$/, "$1 $2"); }

  function speak(call) {
    if (!window.speechSynthesis) { return; }
    languages.forEach(function (texts) {
      var utterance = new SpeechSynthesisUtterance(
        fill(texts.announce, { number: spokenNumber(call.number), counter: call.counter })
      );
      utterance.lang = texts.lang;
      window.speechSynthesis.speak(utterance);
    });
  }

  var announced = null; // keys of the calls already on the board; null until the first update

  function announce(board) {
    var fresh = board.called.filter(function (c) { return announced !== null && !announced[callKey(c)]; });
    announced = {};
    board.called.forEach(function (c) { announced[callKey(c)] = true; });
    if (!fresh.length || !(sound.chime || sound.speak)) { return; }
    if (sound.chime) { chime(); }
    if (sound.speak) { fresh.slice(0, MAX_ANNOUNCED).reverse().forEach(speak); }
  }

  panel.hidden = false;
  refreshControls();

  if (!window.EventSource) { return; }
  var status = document.getElementById("status");
  var source = new EventSource(config.events);
  source.addEventListener("update", function (event) {
    status.textContent = "";
    document.body.setAttribute("data-live", "yes");
    var board = JSON.parse(event.data);
    show(board);
    announce(board);
  });
  source.onerror = function () {
    document.body.setAttribute("data-live", "no");
    status.textContent = languages.map(function (texts) { return texts.offline; }).join(" · ");
  };
})();
