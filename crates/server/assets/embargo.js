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

  document.addEventListener("DOMContentLoaded", function () {
    var calculators = document.querySelectorAll("form[data-cvss]");
    for (var i = 0; i < calculators.length; i++) {
      liveCalculator(calculators[i]);
    }
    confirmations();
  });
})();
