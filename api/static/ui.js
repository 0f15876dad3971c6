// Claims Ledger web view: small progressive enhancements. Every page works without it.
"use strict";

(function () {
  // Forms: a changed select redraws at once; empty fields stay out of the address, so a
  // bookmark holds only what was chosen.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("input[name], select[name]").forEach(function (field) {
        if (field.value === "") field.disabled = true;
      });
    });
    form.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () {
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      });
    });
  });
  // Fields disabled by a submit come back when the page is shown again from history.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-autosubmit] [disabled]").forEach(function (field) {
      field.disabled = false;
    });
  });

  // The chart: each marker's description shows beside it on hover and on keyboard focus;
  // arrow keys move between markers, Escape hides the description.
  var tip = document.getElementById("chart-tip");
  var box = tip && tip.closest(".chart-box");
  var markers = Array.prototype.slice.call(document.querySelectorAll(".chart .marker"));
  if (tip && box) {
    markers.forEach(function (marker) {
      var title = marker.querySelector("title");
      if (title) {
        marker.setAttribute("data-tip", title.textContent);
        marker.setAttribute("aria-label", title.textContent);
        title.remove(); // the custom description replaces the browser's own tooltip
      }
      marker.setAttribute("aria-describedby", "chart-tip");
    });

    var show = function (marker) {
      markers.forEach(function (m) { m.classList.remove("active"); });
      marker.classList.add("active");
      tip.textContent = marker.getAttribute("data-tip");
      tip.hidden = false;
      var frame = box.getBoundingClientRect();
      var spot = marker.getBoundingClientRect();
      var left = spot.left - frame.left + spot.width / 2 + 12;
      var width = tip.offsetWidth;
      if (left + width > frame.width) left = Math.max(0, spot.left - frame.left - width - 12);
      var top = spot.top - frame.top + spot.height + 8;
      tip.style.left = left + "px";
      tip.style.top = top + "px";
    };
    var hide = function () {
      tip.hidden = true;
      markers.forEach(function (m) { m.classList.remove("active"); });
    };

    markers.forEach(function (marker, index) {
      marker.addEventListener("focus", function () { show(marker); });
      marker.addEventListener("mouseenter", function () { show(marker); });
      marker.addEventListener("blur", hide);
      marker.addEventListener("mouseleave", function () {
        if (document.activeElement !== marker) hide();
      });
      marker.addEventListener("keydown", function (event) {
        var step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
        if (step) {
          event.preventDefault();
          markers[(index + step + markers.length) % markers.length].focus();
        } else if (event.key === "Escape") {
          hide();
        }
      });
    });
  }

  // Following a link to an event or a source moves the keyboard there too.
  var focusTarget = function () {
    if (!location.hash) return;
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.tabIndex === -1) target.focus({ preventScroll: true });
  };
  window.addEventListener("hashchange", focusTarget);
  focusTarget();
})();
