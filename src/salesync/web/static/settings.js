// Settings → Salesforce: tabs without reloading, "Log replies" following the API box
// (REPLY-2), the subject template's chips and live preview, and the task import's progress.
// Every page works without this file; it only saves round trips.
"use strict";

(function () {
  function selectTab(tabs, chosen, focus) {
    tabs.forEach(function (tab) {
      var selected = tab === chosen;
      tab.setAttribute("aria-selected", selected ? "true" : "false");
      tab.tabIndex = selected ? 0 : -1;
      var panel = document.getElementById(tab.getAttribute("aria-controls"));
      if (panel) panel.hidden = !selected;
    });
    if (focus) chosen.focus();
    var url = new URL(window.location.href);
    var card = chosen.closest("details");
    if (card) url.searchParams.set("open", card.id);  // a reload shows the same tab
    url.searchParams.set("tab", chosen.id.replace("tab-", ""));
    window.history.replaceState(null, "", url);
  }

  function setUpTabs(list) {
    var tabs = Array.prototype.slice.call(list.querySelectorAll('[role="tab"]'));
    tabs.forEach(function (tab, index) {
      tab.addEventListener("click", function (event) {
        event.preventDefault();
        selectTab(tabs, tab, false);
      });
      tab.addEventListener("keydown", function (event) {
        var step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (!step) return;
        event.preventDefault();
        selectTab(tabs, tabs[(index + step + tabs.length) % tabs.length], true);
      });
    });
  }

  function setUpApiCard(form) {
    var box = form.querySelector('input[name="api_logging"]');
    if (!box) return;
    var follow = function () {
      form.querySelectorAll("[data-api-only]").forEach(function (row) {
        row.hidden = !box.checked;
      });
    };
    box.addEventListener("change", follow);
    follow();
  }

  function setUpTemplateEditor(form) {
    var input = form.querySelector('input[name="subject_template"]');
    var list = form.querySelector("[data-preview-url]");
    if (!input || !list) return;
    var timer = null;
    var latest = 0;
    var refresh = function () {
      var asked = ++latest;
      var url = new URL(list.getAttribute("data-preview-url"), window.location.href);
      url.searchParams.set("template", input.value);
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (answer) { return answer.ok ? answer.json() : null; })
        .then(function (preview) {
          if (!preview || asked !== latest) return;
          preview.samples.forEach(function (sample) {
            var cell = list.querySelector('[data-sample="' + sample.label + '"]');
            if (cell) cell.textContent = sample.subject;
          });
          var unknown = form.querySelector("[data-preview-unknown]");
          unknown.hidden = preview.unknown.length === 0;
          unknown.querySelector("span").textContent = preview.unknown.join(", ");
          form.querySelector("[data-preview-subject-note]").hidden = preview.uses_subject;
        })
        .catch(function () { /* the saved preview stays; Save still validates */ });
    };
    var soon = function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 200);
    };
    input.addEventListener("input", soon);
    form.querySelectorAll("[data-insert]").forEach(function (chip) {
      chip.addEventListener("click", function () {
        var text = chip.getAttribute("data-insert");
        var start = input.selectionStart === null ? input.value.length : input.selectionStart;
        var end = input.selectionEnd === null ? start : input.selectionEnd;
        input.value = input.value.slice(0, start) + text + input.value.slice(end);
        input.focus();
        input.setSelectionRange(start + text.length, start + text.length);
        refresh();
      });
    });
    var reset = form.querySelector("[data-reset-template]");
    if (reset) {
      reset.addEventListener("click", function () {
        input.value = reset.getAttribute("data-reset-template");
        input.focus();
        refresh();
      });
    }
  }

  function watchImport(line) {
    var poll = function () {
      fetch(line.getAttribute("data-progress-url"), { credentials: "same-origin" })
        .then(function (answer) { return answer.ok ? answer.json() : null; })
        .then(function (state) {
          if (!state) return;
          if (state.importing) {
            window.setTimeout(poll, 1500);
            return;
          }
          line.removeAttribute("data-importing");
          line.textContent = state.summary || (state.on ? line.getAttribute("data-on-text") : "");
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    };
    window.setTimeout(poll, 1000);
  }

  document.querySelectorAll("[data-tabs]").forEach(setUpTabs);
  document.querySelectorAll("[data-api-card]").forEach(setUpApiCard);
  document.querySelectorAll("[data-template-editor]").forEach(setUpTemplateEditor);
  document.querySelectorAll("[data-progress-url][data-importing]").forEach(watchImport);
})();
