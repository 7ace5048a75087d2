// Kura console: small improvements over pages that work without script.
// Copy buttons, confirmation prompts, live filtering and sorting of table rows.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (!navigator.clipboard) return;
      navigator.clipboard.writeText(button.dataset.copy).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 1500);
      });
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var table = document.getElementById(input.dataset.filter);
    if (!table) return;
    input.addEventListener("input", function () {
      var needle = input.value.toLowerCase();
      table.querySelectorAll("tbody tr").forEach(function (row) {
        row.classList.toggle("hidden", (row.dataset.name || "").toLowerCase().indexOf(needle) < 0);
      });
    });
  });
  document.querySelectorAll("table.sortable th[data-sort]").forEach(function (header, column) {
    header.addEventListener("click", function () {
      var body = header.closest("table").querySelector("tbody");
      var numeric = header.dataset.sort === "number";
      var descending = header.dataset.order !== "desc";
      header.dataset.order = descending ? "desc" : "asc";
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column], y = b.cells[column];
        var left = numeric ? Number(x.dataset.value) : x.textContent.trim();
        var right = numeric ? Number(y.dataset.value) : y.textContent.trim();
        var order = numeric ? left - right : left.localeCompare(right);
        return descending ? -order : order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
  document.querySelectorAll("input[data-count]").forEach(function (input) {
    var limit = Number(input.dataset.count);
    var note = document.createElement("span");
    note.className = "hint";
    input.insertAdjacentElement("afterend", note);
    var update = function () { note.textContent = input.value.length + " / " + limit; };
    input.addEventListener("input", update);
    update();
  });
});
