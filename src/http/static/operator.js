// Operator overview: polls the read APIs every few seconds. Money arrives as integer minor
// units and is formatted here for display only.
"use strict";
(function () {
  var REFRESH_MS = 3000;
  var DIGITS = { JPY: 0, KRW: 0, ISK: 0, CLP: 0, VND: 0, BHD: 3, KWD: 3, OMR: 3, JOD: 3, TND: 3 };
  function digitsOf(cur) { return DIGITS[cur] === undefined ? 2 : DIGITS[cur]; }
  function fmt(minor, cur) {
    var d = digitsOf(cur), neg = minor < 0, m = Math.abs(minor), unit = Math.pow(10, d);
    var s = String(Math.floor(m / unit)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    if (d > 0) s += "." + String(m % unit).padStart(d, "0");
    return (neg ? "-" : "") + s + " " + cur;
  }
  function num(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }
  function td(text, cls) {
    var c = document.createElement("td");
    c.textContent = text;
    if (cls) c.className = cls;
    return c;
  }
  function row(cells, cls) {
    var r = document.createElement("tr");
    if (cls) r.className = cls;
    cells.forEach(function (c) { r.appendChild(c); });
    return r;
  }
  function fill(id, rows) {
    var body = document.querySelector("#" + id + " tbody");
    body.replaceChildren.apply(body, rows);
  }
  var key = sessionStorage.getItem("pitboss-key") || "";
  function get(path) {
    var h = {};
    if (key) h["Authorization"] = "Bearer " + key;
    return fetch(path, { headers: h }).then(function (r) {
      if (r.status === 401 || r.status === 403) {
        document.getElementById("keybox").classList.add("show");
        return r.json().then(function (e) { throw new Error(e.error || r.statusText); });
      }
      if (!r.ok) throw new Error(path + ": " + r.status);
      return r.json();
    });
  }
  document.getElementById("keybox").addEventListener("submit", function (ev) {
    ev.preventDefault();
    key = document.getElementById("key").value.trim();
    sessionStorage.setItem("pitboss-key", key);
    refresh();
  });

  function halls(d) {
    var cur = "EUR", t = { ggr: 0, net: 0, last: 0, bets: 0, wins: 0, games: 0, on: 0, off: 0, door: 0, tilt: 0 };
    var rows = d.halls.map(function (h) {
      cur = h.currency;
      var m = h.machines;
      t.ggr += h.ggr_minor; t.net += h.net_win_minor; t.last += h.ggr_last_window_minor; t.bets += h.bets_minor;
      t.wins += h.wins_minor; t.games += h.games; t.on += m.online; t.off += m.offline;
      t.door += m.door_open; t.tilt += m.tilt;
      return row([td(h.id), td(fmt(h.ggr_minor, cur), h.ggr_minor < 0 ? "neg" : ""),
        td(fmt(h.net_win_minor, cur), h.net_win_minor < 0 ? "neg" : ""),
        td(fmt(h.ggr_last_window_minor, cur), h.ggr_last_window_minor < 0 ? "neg" : ""),
        td(fmt(h.bets_minor, cur)), td(fmt(h.wins_minor, cur)), td(num(h.games)),
        td(num(m.online), "ok"), td(num(m.offline), m.offline ? "bad" : ""),
        td(num(m.door_open), m.door_open ? "warn" : ""), td(num(m.tilt), m.tilt ? "warn" : "")]);
    });
    rows.push(row([td("All " + d.total + " halls" + (d.truncated ? " (list truncated)" : "")),
      td(fmt(t.ggr, cur)), td(fmt(t.net, cur)), td(fmt(t.last, cur)), td(fmt(t.bets, cur)), td(fmt(t.wins, cur)),
      td(num(t.games)), td(num(t.on)), td(num(t.off)), td(num(t.door)), td(num(t.tilt))], "total"));
    fill("halls", rows);
    document.getElementById("t-ggr").textContent = fmt(t.ggr, cur);
    document.getElementById("t-ggr-last").textContent = fmt(t.last, cur);
    document.getElementById("t-online").textContent = num(t.on);
    var off = document.getElementById("t-offline");
    off.textContent = num(t.off);
    off.className = "v " + (t.off ? "bad" : "ok");
    document.getElementById("t-faults").textContent = num(t.door) + " / " + num(t.tilt);
    return cur;
  }

  function attention(lists, cur) {
    var rows = [];
    lists.forEach(function (d) {
      d.machines.forEach(function (m) {
        rows.push(row([td(m.id), td(m.hall, "l"), td(m.status.replace("_", " "), "l " + (m.status === "offline" ? "bad" : "warn")),
          td(fmt(m.credits_minor, cur)),
          td(m.last_event_time_ms ? new Date(m.last_event_time_ms).toISOString().replace("T", " ").slice(0, 19) : "–")]));
      });
    });
    if (!rows.length) rows.push(row([td("none: every machine is online", "ok"), td(""), td(""), td(""), td("")]));
    fill("attention", rows);
  }

  // RULES.md V-8: what the open vouchers are for, per issuing hall.
  function liability(d) {
    var cur = d.currency;
    var rows = d.halls.map(function (h) {
      return row([td(h.hall), td(num(h.open_vouchers)), td(fmt(h.liability_minor, cur))]);
    });
    rows.push(row([td("All halls"), td(num(d.open_vouchers)), td(fmt(d.liability_minor, cur))], "total"));
    fill("liability", rows);
    document.getElementById("t-liability").textContent = fmt(d.liability_minor, cur);
  }

  // RULES.md M-10: handpays waiting for an attendant, oldest first.
  function handpays(d, cur) {
    var rows = d.handpays.map(function (h) {
      var mins = Math.floor(h.age_secs / 60);
      return row([td(h.machine), td(h.hall, "l"), td(h.kind.replace("_", " "), "l"),
        td(fmt(h.amount_minor, cur)), td(mins + " min", mins >= 15 ? "bad" : "warn")]);
    });
    if (!rows.length) rows.push(row([td("none", "ok"), td(""), td(""), td(""), td("")]));
    fill("handpays", rows);
    var t = document.getElementById("t-handpays");
    t.textContent = num(d.total);
    t.className = "v " + (d.total ? "warn" : "ok");
  }

  // Issue 12: alerts raised whose clear has not come, warnings first, then oldest first.
  function alerts(d) {
    var rows = d.alerts.map(function (a) {
      var mins = Math.floor(a.age_secs / 60);
      return row([td(a.code.replace(/_/g, " "), a.severity === "info" ? "l" : "l warn"),
        td(a.hall, "l"), td(a.machine || "–", "l"), td(a.detail || "–", "l"),
        td(mins + " min", mins >= 15 ? "bad" : "warn"), td(a.cleared_by, "l muted")]);
    });
    if (!rows.length) rows.push(row([td("none", "ok"), td(""), td(""), td(""), td(""), td("")]));
    fill("alerts", rows);
    var t = document.getElementById("t-alerts");
    t.textContent = num(d.total);
    t.className = "v " + (d.total ? "warn" : "ok");
  }

  // RULES.md W-11: the open AML cases, newest first (a closed one leaves the list).
  function cases(d) {
    var rows = d.cases.map(function (c) {
      return row([td(c.case, c.case === "log" ? "l" : "l warn"), td(c.player, "l"),
        td(c.direction, "l"), td(fmt(c.total_minor, c.currency)),
        td(fmt(c.threshold_minor, c.currency)), td(num(c.evidence.length + c.left_out)),
        td(new Date(c.at_ms).toLocaleString(), "l muted")]);
    });
    if (!rows.length) rows.push(row([td("none", "ok"), td(""), td(""), td(""), td(""), td(""), td("")]));
    fill("cases", rows);
    var t = document.getElementById("t-cases");
    t.textContent = num(d.total);
    t.className = "v " + (d.total ? "warn" : "ok");
  }

  function pools(d) {
    var rows = [];
    d.pools.forEach(function (p) {
      rows.push(row([td(p.id + (p.halls ? " (" + p.halls.join(", ") + ")" : " (all halls)")),
        td(""), td(""), td(""), td(""), td(""), td(""), td("")], "total"));
      p.levels.forEach(function (l) {
        var c = l.config, pend = l.pending;
        var ptext = pend ? "seed " + fmt(pend.seed_minor, p.currency) +
          (pend.ceiling_minor ? ", ceiling " + fmt(pend.ceiling_minor, p.currency) : "") +
          ", " + pend.contribution_percent + "%" : "–";
        rows.push(row([td("\u00a0\u00a0" + c.name + (c.mystery ? " (mystery)" : "")),
          td(fmt(l.amount_minor, p.currency)), td(fmt(c.seed_minor, p.currency)),
          td(c.ceiling_minor ? fmt(c.ceiling_minor, p.currency) : "–"),
          td(c.contribution_percent + "%"), td(num(l.hits)), td(fmt(l.paid_minor, p.currency)),
          td(ptext, pend ? "warn" : "muted")]));
      });
    });
    fill("pools", rows);
  }

  function refresh() {
    Promise.all([get("/api/halls"), get("/api/pools"),
      get("/api/machines?status=offline&limit=50"), get("/api/machines?status=tilt&limit=25"),
      get("/api/machines?status=door_open&limit=25"), get("/api/vouchers/liability"),
      get("/api/handpays?limit=25"), get("/api/alerts?limit=50"),
      get("/api/compliance/cases?status=open&limit=25")])
      .then(function (r) {
        document.getElementById("keybox").classList.remove("show");
        document.getElementById("keyerr").textContent = "";
        var cur = halls(r[0]);
        pools(r[1]);
        attention([r[2], r[3], r[4]], cur);
        liability(r[5]);
        handpays(r[6], cur);
        alerts(r[7]);
        cases(r[8]);
        var at = r[0].census_at_ms ? new Date(r[0].census_at_ms).toLocaleTimeString() : "–";
        document.getElementById("updated").textContent = "census " + at;
      })
      .catch(function (e) {
        document.getElementById("keyerr").textContent = e.message;
        document.getElementById("updated").textContent = "error: " + e.message;
      });
  }
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
