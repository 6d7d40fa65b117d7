// Small progressive enhancements; every page works without this script.
(function () {
  "use strict";

  function setUpNavToggle() {
    var toggle = document.querySelector(".nav-toggle");
    var nav = document.getElementById("main-nav");
    if (!toggle || !nav) return;
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // Show only the category and custom fields of the chosen queue on the new-issue form.
  function setUpQueueFields() {
    var select = document.getElementById("queue-select");
    if (!select) return;
    function update() {
      document.querySelectorAll(".queue-field").forEach(function (field) {
        var active = field.getAttribute("data-queue") === select.value;
        field.hidden = !active;
        field.querySelectorAll("input, select, textarea").forEach(function (input) {
          input.disabled = !active;
        });
      });
    }
    select.addEventListener("change", update);
    update();
  }

  function clear(element) {
    while (element.firstChild) element.removeChild(element.firstChild);
  }

  function addItem(list, text, href) {
    var item = document.createElement("li");
    if (href) {
      var link = document.createElement("a");
      link.href = href;
      link.textContent = text;
      item.appendChild(link);
    } else {
      item.textContent = text;
    }
    list.appendChild(item);
  }

  // Ask plugins for classification suggestions and similar issues while a title is typed.
  function setUpAdvice() {
    var form = document.getElementById("new-issue-form");
    var box = document.getElementById("advice");
    if (!form || !box) return;
    var timer = null;
    function ask() {
      var body = new URLSearchParams();
      ["csrf_token", "queue", "title", "description"].forEach(function (name) {
        var input = form.elements[name];
        if (input) body.append(name, input.value);
      });
      fetch("/issues/suggestions", { method: "POST", body: body, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) return;
          var suggestions = document.getElementById("advice-suggestions");
          var similar = document.getElementById("advice-similar");
          clear(suggestions);
          clear(similar);
          data.suggestions.forEach(function (s) {
            addItem(suggestions, s.field + ": " + s.value + " (" + Math.round(s.confidence * 100) + "%)" + (s.explanation ? " – " + s.explanation : ""));
          });
          data.similar.forEach(function (s) {
            addItem(similar, s.title, s.url || (s.kind === "issue" ? "/issues/" + s.id : null));
          });
          box.hidden = data.suggestions.length === 0 && data.similar.length === 0;
        })
        .catch(function () { box.hidden = true; });
    }
    ["title", "description"].forEach(function (name) {
      var input = form.elements[name];
      if (!input) return;
      input.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(ask, 600);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpNavToggle();
    setUpQueueFields();
    setUpAdvice();
  });
})();
