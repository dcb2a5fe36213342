/* Countdown on the video join page until the room opens.
   The server writes the seconds left; we count down from the moment the page loaded (the
   visitor's clock may be wrong). At zero we say so in a status region and offer the reload
   link; we do not reload on our own (no change of context the visitor did not ask for).
   Without JavaScript the page shows the same time and a plain "check again" link. */
(function () {
  "use strict";
  var timer = document.querySelector("[data-countdown-seconds]");
  if (!timer) { return; }
  var total = parseInt(timer.getAttribute("data-countdown-seconds"), 10);
  if (!(total > 0)) { return; }
  var started = Date.now();

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function show() {
    var left = Math.max(0, total - Math.floor((Date.now() - started) / 1000));
    var hours = Math.floor(left / 3600);
    var minutes = Math.floor((left % 3600) / 60);
    timer.textContent = hours + ":" + pad(minutes) + ":" + pad(left % 60);
    if (left === 0) {
      var target = document.getElementById(timer.getAttribute("data-done-target"));
      if (target) { target.textContent = timer.getAttribute("data-done-text"); }
      return;
    }
    window.setTimeout(show, 1000 - ((Date.now() - started) % 1000));
  }
  show();
}());
