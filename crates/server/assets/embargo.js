// embargo's progressive enhancement. Everything works without it; with it,
// the CVSS calculator scores as you choose metrics, and destructive buttons
// ask before they act. No inline script: the Content-Security-Policy only
// allows this file.
(function () {
  "use strict";

  function vectorOf(form) {
    var typed = form.querySelector("[name=vector]");
    if (typed && typed.value.trim() !== "") {
      return typed.value.trim();
    }
    var selects = form.querySelectorAll("select[data-metric]");
    var parts = [];
    for (var i = 0; i < selects.length; i++) {
      if (!selects[i].value) {
        return null;
      }
      parts.push(selects[i].getAttribute("data-metric") + ":" + selects[i].value);
    }
    return parts.length ? "CVSS:3.1/" + parts.join("/") : null;
  }

  function liveCalculator(form) {
    var out = form.querySelector("output[data-cvss-result]");
    if (!out) {
      return;
    }
    var pending = 0;
    function update() {
      var vector = vectorOf(form);
      if (!vector) {
        out.textContent = "Choose every metric, or paste a vector, to see the score.";
        return;
      }
      var ticket = ++pending;
      fetch("/api/v1/cvss?vector=" + encodeURIComponent(vector), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (r) {
        return r.json().then(function (body) { return { ok: r.ok, body: body }; });
      }).then(function (res) {
        if (ticket !== pending) {
          return;
        }
        if (!res.ok) {
          out.textContent = (res.body && res.body.error && res.body.error.message) || "Not a valid vector.";
          return;
        }
        var a = res.body;
        var text = "CVSS " + a.version + " score " + a.score + ", " + a.severity;
        if (a.policy_level) {
          text += " (the policy calls this " + a.policy_level.name + ")";
        }
        out.textContent = text + ". " + a.vector;
      }).catch(function () {
        out.textContent = "Could not score now; submit the form instead.";
      });
    }
    form.addEventListener("change", update);
    form.addEventListener("input", function (e) {
      if (e.target && e.target.name === "vector") {
        update();
      }
    });
    update();
  }

  function confirmations() {
    var forms = document.querySelectorAll("form[data-confirm]");
    for (var i = 0; i < forms.length; i++) {
      forms[i].addEventListener("submit", function (e) {
        if (!window.confirm(this.getAttribute("data-confirm"))) {
          e.preventDefault();
        }
      });
    }
  }

  // The queue's keyboard shortcuts: j and k move between cases (Enter
  // opens one), / goes to the search, ? shows the list. Never while typing.
  function queueShortcuts() {
    var table = document.querySelector("table.queue");
    var help = document.getElementById("shortcuts");
    if (!table) {
      return;
    }
    var links = table.querySelectorAll("tbody tr td a[href^='/desk/cases/']");
    var current = -1;
    function move(to) {
      if (!links.length) {
        return;
      }
      if (current >= 0) {
        links[current].closest("tr").classList.remove("current");
      }
      current = Math.max(0, Math.min(links.length - 1, to));
      links[current].closest("tr").classList.add("current");
      links[current].focus();
    }
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      if (e.ctrlKey || e.metaKey || e.altKey) {
        return;
      }
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) {
        return;
      }
      if (e.key === "j") {
        move(current + 1);
        e.preventDefault();
      } else if (e.key === "k") {
        move(current - 1);
        e.preventDefault();
      } else if (e.key === "/") {
        var search = document.getElementById("f-q");
        if (search) {
          search.focus();
          e.preventDefault();
        }
      } else if (e.key === "?" && help) {
        help.hidden = !help.hidden;
        e.preventDefault();
      } else if (e.key === "Escape" && help && !help.hidden) {
        help.hidden = true;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    queueShortcuts();
    var calculators = document.querySelectorAll("form[data-cvss]");
    for (var i = 0; i < calculators.length; i++) {
      liveCalculator(calculators[i]);
    }
    confirmations();
  });
})();
