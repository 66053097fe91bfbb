// Jackpot display: levels from the SSE feed count up smoothly between updates; a hit shows
// a full-screen banner for a few seconds. Amounts stay integers (minor units) throughout;
// they are formatted to major units only for display.
"use strict";
(function () {
  var params = new URLSearchParams(location.search);
  var HIT_MS = Math.max(1, Number(params.get("hit_secs") || 8)) * 1000;
  // ?pools=WAP-1,HALL-1 shows only these pools (a hall's screen); default: every pool.
  var ONLY = params.get("pools") ? params.get("pools").split(",") : null;
  function wanted(pool) { return !ONLY || ONLY.indexOf(pool) >= 0; }
  var SYMBOLS = { EUR: "\u20ac", USD: "$", GBP: "\u00a3", CHF: "CHF\u00a0", JPY: "\u00a5" };
  var poolsEl = document.getElementById("pools");
  var conn = document.getElementById("conn");
  var hitEl = document.getElementById("hit");
  var pools = {};      // pool id -> {el, currency, digits, levels: {index -> level state}}
  var hitQueue = [];
  var hitShowing = false;
  var stats = { updates: 0, hits: 0 };
  window.__pitboss = stats;

  function format(minor, digits, currency) {
    var neg = minor < 0;
    var m = Math.abs(Math.trunc(minor));
    var unit = Math.pow(10, digits);
    var major = Math.floor(m / unit);
    var frac = digits > 0 ? "." + String(m % unit).padStart(digits, "0") : "";
    var grouped = String(major).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var sym = SYMBOLS[currency];
    var text = (sym ? sym : "") + grouped + frac + (sym ? "" : "\u00a0" + currency);
    return (neg ? "-" : "") + text;
  }

  function poolEl(id, currency, digits) {
    var p = pools[id];
    if (p) return p;
    var el = document.createElement("section");
    el.className = "pool";
    el.dataset.pool = id;
    var h = document.createElement("h1");
    h.className = "pool-name";
    h.textContent = id;
    el.appendChild(h);
    var list = document.createElement("div");
    list.className = "levels";
    el.appendChild(list);
    poolsEl.appendChild(el);
    p = { el: el, list: list, currency: currency, digits: digits, levels: {} };
    pools[id] = p;
    // About 1.7 pools of four levels fit a 16:9 screen at full size; shrink for more.
    var n = Object.keys(pools).length;
    document.documentElement.style.setProperty("--scale", String(Math.min(1, 1.7 / n)));
    return p;
  }

  function levelState(p, poolId, lv, index, count) {
    var s = p.levels[lv.level];
    if (s) return s;
    var row = document.createElement("div");
    // The first level listed is the top prize: it gets the biggest digits.
    row.className = "level rank" + Math.min(index, 3);
    row.dataset.pool = poolId;
    row.dataset.level = lv.level;
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = lv.name.toUpperCase();
    var amount = document.createElement("span");
    amount.className = "amount";
    row.appendChild(name);
    row.appendChild(amount);
    p.list.appendChild(row);
    s = { row: row, amountEl: amount, shown: lv.amount_minor, from: lv.amount_minor,
          to: lv.amount_minor, t0: 0, dur: 1, last: 0, text: "" };
    p.levels[lv.level] = s;
    render(p, s);
    return s;
  }

  function render(p, s) {
    var t = format(s.shown, p.digits, p.currency);
    if (t !== s.text) {
      s.text = t;
      s.amountEl.textContent = t;
      s.amountEl.dataset.minor = String(s.shown);
    }
  }

  function onLevels(d) {
    if (!wanted(d.pool)) return;
    stats.updates++;
    var p = poolEl(d.pool, d.currency, d.digits);
    var now = performance.now();
    d.levels.forEach(function (lv, i) {
      var s = levelState(p, d.pool, lv, i, d.levels.length);
      if (lv.amount_minor < s.shown) {
        // Reset after a hit: show the new value at once.
        s.shown = s.from = s.to = lv.amount_minor;
        s.dur = 1;
      } else {
        // Count up over about the time between updates, so the digits never stop.
        var gap = s.last ? now - s.last : 1000;
        s.from = s.shown;
        s.to = lv.amount_minor;
        s.t0 = now;
        s.dur = Math.min(3000, Math.max(250, gap));
      }
      s.last = now;
      render(p, s);
    });
  }

  function tick(now) {
    Object.keys(pools).forEach(function (id) {
      var p = pools[id];
      Object.keys(p.levels).forEach(function (k) {
        var s = p.levels[k];
        if (s.shown !== s.to) {
          var f = Math.min(1, (now - s.t0) / s.dur);
          s.shown = f >= 1 ? s.to : s.from + Math.floor((s.to - s.from) * f);
          render(p, s);
        }
      });
    });
    requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);

  function showNextHit() {
    var h = hitQueue.shift();
    if (!h) {
      hitShowing = false;
      hitEl.classList.remove("show");
      hitEl.setAttribute("aria-hidden", "true");
      return;
    }
    hitShowing = true;
    document.getElementById("hit-level").textContent = h.pool + " \u00b7 " + h.name.toUpperCase();
    document.getElementById("hit-amount").textContent = format(h.amount_minor, h.digits, h.currency);
    document.getElementById("hit-machine").textContent = "on machine " + h.machine;
    hitEl.dataset.count = String(stats.hits);
    hitEl.dataset.amountMinor = String(h.amount_minor);
    hitEl.classList.remove("show");
    void hitEl.offsetWidth; // restart the entrance animation
    hitEl.classList.add("show");
    hitEl.setAttribute("aria-hidden", "false");
    // Several hits in a row share the time, so the banner never falls far behind.
    var ms = hitQueue.length > 0 ? Math.max(2500, HIT_MS / (1 + hitQueue.length)) : HIT_MS;
    setTimeout(showNextHit, ms);
  }

  function onHit(d) {
    if (!wanted(d.pool)) return;
    stats.hits++;
    hitQueue.push(d);
    if (hitQueue.length > 5) hitQueue.shift();
    if (!hitShowing) showNextHit();
  }

  function connect() {
    var es = new EventSource("/api/jackpots/stream");
    es.onopen = function () { conn.textContent = "live"; conn.className = "conn on"; };
    es.onerror = function () { conn.textContent = "reconnecting"; conn.className = "conn off"; };
    es.addEventListener("levels", function (e) { onLevels(JSON.parse(e.data)); });
    es.addEventListener("hit", function (e) { onHit(JSON.parse(e.data)); });
  }
  connect();
})();
