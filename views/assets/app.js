// Progressive enhancement only: every page works without this file.
"use strict";

// Times arrive in UTC; show them in the viewer's own zone.
function localizeTimes(root) {
  for (const element of root.querySelectorAll("time[datetime][data-format]")) {
    const date = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) continue;
    const options =
      element.dataset.format === "time"
        ? { hour: "2-digit", minute: "2-digit" }
        : { dateStyle: "medium", timeStyle: "short" };
    element.textContent = new Intl.DateTimeFormat(undefined, options).format(date);
    element.title = date.toISOString();
  }
}

// A select marked data-autosubmit submits its form on change; its button is then not needed.
function enhanceForms(root) {
  for (const select of root.querySelectorAll("select[data-autosubmit]")) {
    if (select.dataset.enhanced) continue;
    select.dataset.enhanced = "1";
    select.addEventListener("change", () => select.form.requestSubmit());
  }
}

function enhance(root) {
  localizeTimes(root);
  enhanceForms(root);
}

document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", () => enhance(document));
// htmx swaps in fresh rows: enhance them too.
document.addEventListener("htmx:afterSwap", (event) => enhance(event.detail.elt.parentElement || document));
