// Live refresh for the Command Center, the timelines and Diagnostics. The pages work without
// it; it only saves a reload: Salesforce states that are still pending, the progress of a
// retry, and the task list while the first task import runs.
(function () {
  "use strict";
  var POLL_MS = 2000;
  // A tab left open stops asking after ten minutes; a reload starts again.
  var GIVE_UP_MS = 10 * 60 * 1000;
  var started = Date.now();

  function fetchHtml(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } }).then(
      function (response) {
        // Signed out meanwhile: the answer is the sign-in page, not the fragment.
        if (!response.ok || response.redirected) return null;
        return response.text();
      }
    );
  }

  function replaceWith(element, html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var fresh = template.content.firstElementChild;
    if (fresh && element.isConnected) element.replaceWith(fresh);
  }

  function refreshStates() {
    var waiting = Array.prototype.slice.call(
      document.querySelectorAll('.sync-state[data-state="pending"]')
    );
    return Promise.all(
      waiting.map(function (element) {
        return fetchHtml(element.dataset.stateUrl).then(function (html) {
          if (html) replaceWith(element, html);
        });
      })
    ).then(function () {
      return waiting.length;
    });
  }

  function refreshProgress() {
    var panel = document.querySelector('#retry-progress[data-finished="no"]');
    if (!panel) return Promise.resolve(0);
    return fetchHtml(panel.dataset.progressUrl).then(function (html) {
      if (html) replaceWith(panel, html);
      return 1;
    });
  }

  function refreshSection() {
    var banner = document.querySelector("[data-refresh]");
    if (!banner) return Promise.resolve(0);
    var selector = banner.dataset.refresh;
    return fetchHtml(location.pathname + location.search).then(function (html) {
      if (!html) return 1;
      var page = new DOMParser().parseFromString(html, "text/html");
      var fresh = page.querySelector(selector);
      var current = document.querySelector(selector);
      if (fresh && current) current.replaceWith(document.importNode(fresh, true));
      if (!page.querySelector("[data-refresh]")) banner.remove();
      return 1;
    });
  }

  function tick() {
    Promise.all([refreshStates(), refreshProgress(), refreshSection()])
      .then(function (counts) {
        return counts[0] + counts[1] + counts[2];
      })
      .catch(function () {
        return 1; // a network blip: try again on the next tick
      })
      .then(function (busy) {
        if (busy && Date.now() - started < GIVE_UP_MS) setTimeout(tick, POLL_MS);
      });
  }

  setTimeout(tick, POLL_MS);
})();
