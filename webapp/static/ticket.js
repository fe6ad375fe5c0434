// The ticket page: text typed in one form survives an action sent from another.
// htmx replaces the whole ticket after each action (a tick, a claim); without this, a
// resolution note or a comment being typed would be lost when a step is ticked meanwhile.
// The form that was sent is left alone: the server answers with what it kept of it.
(function () {
  var kept = null;
  var before = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var ticket = document.getElementById("ticket");
    if (!ticket || event.detail.target !== ticket) return;
    var sender = event.detail.requestConfig && event.detail.requestConfig.elt;
    before = ticket;
    kept = [];
    ticket.querySelectorAll("textarea[name]").forEach(function (area) {
      if (area.value && !(sender && sender.contains(area))) kept.push([area.name, area.value]);
    });
  });
  document.addEventListener("htmx:afterSwap", function () {
    var ticket = document.getElementById("ticket");
    if (!kept || !ticket || ticket === before) return;
    kept.forEach(function (pair) {
      var area = ticket.querySelector('textarea[name="' + CSS.escape(pair[0]) + '"]');
      if (!area || area.value) return;
      area.value = pair[1];
      var details = area.closest("details");
      if (details) details.open = true;
    });
    kept = null;
    before = null;
  });
})();
