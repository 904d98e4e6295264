// Progressive enhancement only: every page works without this script.
// - asks for confirmation before a decision form is sent;
// - on the queue, refreshes the page every 30 s unless someone is using a filter.
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
if (document.getElementById("filters")) {
  window.setInterval(function () {
    var active = document.activeElement;
    if (!active || active === document.body) {
      window.location.reload();
    }
  }, 30000);
}
