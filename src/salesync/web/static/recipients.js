// Type-ahead for the email form's To and Cc fields: as you type, the people whose name, email
// or company holds the last entry are offered in the field's list; picking one keeps the
// entries before it. Without this script the list holds the team's people and names still work.
(function () {
  "use strict";
  var WAIT_MS = 150;

  function lastEntry(value) {
    var cut = Math.max(value.lastIndexOf(","), value.lastIndexOf(";"));
    return { before: value.slice(0, cut + 1), term: value.slice(cut + 1).trim() };
  }

  function listFor(input) {
    var id = input.id + "-suggestions";
    var list = document.getElementById(id);
    if (!list) {
      list = document.createElement("datalist");
      list.id = id;
      input.parentNode.insertBefore(list, input.nextSibling);
    }
    input.setAttribute("list", id);
    return list;
  }

  function show(input, before, found) {
    var list = listFor(input);
    var prefix = before ? before.replace(/\s*$/, " ") : "";
    list.replaceChildren();
    found.forEach(function (person) {
      var option = document.createElement("option");
      option.value = prefix + person.email;
      option.label = person.company ? person.name + " · " + person.company : person.name;
      list.appendChild(option);
    });
  }

  function attach(input) {
    var timer = null;
    var asked = 0;
    input.addEventListener("input", function () {
      var entry = lastEntry(input.value);
      clearTimeout(timer);
      if (entry.term.length < 2) {
        return;
      }
      timer = setTimeout(function () {
        var ticket = ++asked;
        var url = input.dataset.recipients + "?q=" + encodeURIComponent(entry.term);
        fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : { people: [] }; })
          .then(function (body) {
            if (ticket === asked) { show(input, entry.before, body.people || []); }
          })
          .catch(function () { /* the field still accepts names and addresses */ });
      }, WAIT_MS);
    });
  }

  document.querySelectorAll("input[data-recipients]").forEach(attach);
})();
