// Remember me and my appointments on this device: a progressive enhancement kept entirely in this browser.
// The citizen's name and contacts live in localStorage only; the server sees them when the contact form is
// sent, never from here. Every control is rendered hidden and shown only when this script can store things,
// so that without JavaScript (or without storage) no control promises what cannot work.
(function () {
  "use strict";
  var CONTACT = "rathaus.contact";          // {name, email, phone} the citizen asked us to remember
  var PENDING = "rathaus.contact.pending";  // what the last contact form sent, for this tab only
  var APPOINTMENTS = "rathaus.appointments"; // [{url, when, office}] of bookings made here
  var FIELDS = ["name", "email", "phone"];

  function storage(kind) {
    // Disabled storage (a privacy setting) throws on access; then the enhancement stays away.
    try {
      var store = window[kind];
      store.setItem("rathaus.probe", "1");
      store.removeItem("rathaus.probe");
      return store;
    } catch (error) {
      return null;
    }
  }

  function read(store, key, fallback) {
    try {
      var value = JSON.parse(store.getItem(key));
      return value === null ? fallback : value;
    } catch (error) {
      return fallback;  // a damaged entry counts as none
    }
  }

  function say(region, text) {
    // Cleared first so that the same message twice is announced twice.
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  var local = storage("localStorage");
  var session = storage("sessionStorage");
  if (!local || !session) { return; }

  // The contact form: fill in what was remembered, and keep what is sent for the confirmation page.
  var form = document.getElementById("contact-form");
  var filled = document.getElementById("device-filled");
  if (form) {
    var remembered = read(local, CONTACT, null);
    if (remembered && filled) {
      var used = false;
      FIELDS.forEach(function (name) {
        var input = form.elements.namedItem(name);
        // What the server rendered back (a refused form) wins over the remembered value.
        if (input && !input.value && remembered[name]) { input.value = remembered[name]; used = true; }
      });
      if (used) {
        filled.hidden = false;
        say(filled.querySelector("[aria-live]"), filled.getAttribute("data-filled"));
        filled.querySelector("button").addEventListener("click", function () {
          local.removeItem(CONTACT);
          FIELDS.forEach(function (name) {
            var input = form.elements.namedItem(name);
            if (input) { input.value = ""; }
          });
          filled.querySelector("button").hidden = true;
          say(filled.querySelector("[aria-live]"), filled.getAttribute("data-forgotten"));
        });
      }
    }
    form.addEventListener("submit", function () {
      var sent = {};
      FIELDS.forEach(function (name) {
        var input = form.elements.namedItem(name);
        sent[name] = input ? input.value.trim() : "";
      });
      session.setItem(PENDING, JSON.stringify(sent));
    });
  }

  // The confirmation page: offer to remember the details just sent, and add the booking to this device's list.
  var remember = document.getElementById("device-remember");
  if (remember) {
    var pending = read(session, PENDING, null);
    var stored = read(local, CONTACT, null);
    if (pending || stored) {
      var box = document.getElementById("remember-me");
      var forget = document.getElementById("forget-me");
      var status = remember.querySelector("[aria-live]");
      box.checked = Boolean(stored);
      forget.hidden = !stored;
      remember.hidden = false;
      box.addEventListener("change", function () {
        if (box.checked && (pending || stored)) {
          stored = pending || stored;
          local.setItem(CONTACT, JSON.stringify(stored));
          say(status, remember.getAttribute("data-remembered"));
        } else {
          local.removeItem(CONTACT);
          stored = null;
          say(status, remember.getAttribute("data-forgotten"));
        }
        forget.hidden = !stored;
      });
      forget.addEventListener("click", function () {
        local.removeItem(CONTACT);
        session.removeItem(PENDING);
        pending = stored = null;
        box.checked = false;
        forget.hidden = true;
        box.focus();  // the button is gone; the focus stays nearby
        say(status, remember.getAttribute("data-forgotten"));
      });
    }
    var booking = remember.getAttribute("data-new-url");
    if (booking) {
      var list = read(local, APPOINTMENTS, []).filter(function (item) { return item && item.url !== booking; });
      list.unshift({
        url: booking,
        when: remember.getAttribute("data-when"),
        office: remember.getAttribute("data-office"),
      });
      local.setItem(APPOINTMENTS, JSON.stringify(list.slice(0, 50)));
    }
  }

  // The list of this device's appointments: only links, each to its booking's own page.
  var mine = document.getElementById("device-appointments");
  if (mine) {
    var items = mine.querySelector("ul");
    var empty = document.getElementById("device-empty");
    var clear = document.getElementById("device-clear");
    var announce = mine.querySelector("[aria-live]");
    var show = function () {
      var saved = read(local, APPOINTMENTS, []);
      items.textContent = "";
      saved.forEach(function (item) {
        // Only our own manage pages: a tampered entry must not become a link elsewhere.
        if (!item || typeof item.url !== "string" || item.url.indexOf("/bookings/") !== 0) { return; }
        var entry = document.createElement("li");
        var link = document.createElement("a");
        link.className = "kern-link";
        link.href = item.url;
        link.textContent = item.when || item.url;
        entry.appendChild(link);
        if (item.office) { entry.appendChild(document.createTextNode(", " + item.office)); }
        items.appendChild(entry);
      });
      items.hidden = !items.children.length;
      empty.hidden = Boolean(items.children.length);
      clear.hidden = !items.children.length;
    };
    show();
    mine.hidden = false;
    clear.addEventListener("click", function () {
      local.removeItem(APPOINTMENTS);
      show();
      empty.focus();  // the button is gone; the focus goes to what replaced the list
      say(announce, mine.getAttribute("data-cleared"));
    });
  }
})();
