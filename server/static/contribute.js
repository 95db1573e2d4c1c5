// Checks the record form as one types: the form is sent to /contribute/check, which returns
// the record model's and the SHACL shapes' results, shown next to each field. Adds rows to
// the repeatable author and contact fields, and a search box above long lists of choices.
// Without this script the form still works: the server checks it again on submission.
(function () {
  "use strict";

  const form = document.getElementById("record-form");
  if (!form) return;
  const checkUrl = form.dataset.check;
  let timer = null;
  let pending = null;
  // Fields the contributor has changed, or that came filled in: only their messages are shown,
  // so an empty form does not open full of errors. The summary counts every result.
  const touched = new Set();
  for (const block of form.querySelectorAll(".form-field")) {
    if ([...block.querySelectorAll("input, select, textarea")].some((input) => input.value && input.type !== "search")) {
      touched.add(block.dataset.field);
    }
  }
  if (form.querySelector(".field-messages li")) {
    for (const block of form.querySelectorAll(".form-field")) touched.add(block.dataset.field);
  }

  function fieldLabel(name) {
    const block = document.getElementById("field-" + name);
    const label = block && block.querySelector("label, legend");
    return label ? label.firstChild.textContent.trim() : name;
  }

  function show(results) {
    for (const list of form.querySelectorAll(".field-messages")) list.replaceChildren();
    let violations = 0;
    const elsewhere = new Set();
    for (const result of results) {
      if (result.severity === "Violation") violations += 1;
      if (result.input && !touched.has(result.input)) {
        if (result.severity === "Violation") elsewhere.add(fieldLabel(result.input));
        continue;
      }
      const list = document.getElementById("messages-" + (result.input || "record")) || document.getElementById("messages-record");
      const item = document.createElement("li");
      item.className = result.severity.toLowerCase();
      item.textContent = result.severity + ": " + (result.input ? "" : result.field + ": ") + result.message;
      list.appendChild(item);
    }
    for (const block of form.querySelectorAll(".form-field")) {
      const list = block.querySelector(".field-messages");
      block.classList.toggle("has-violation", !!list && !!list.querySelector(".violation"));
    }
    const summary = document.getElementById("check-summary");
    if (summary) {
      const warnings = results.length - violations;
      let text = violations + (violations === 1 ? " error, " : " errors, ") + warnings +
        (warnings === 1 ? " warning." : " warnings.");
      text += violations ? " Errors block the submission." : " Ready to submit.";
      if (elsewhere.size) text += " Still to fill in: " + [...elsewhere].join(", ") + ".";
      summary.textContent = text;
      summary.dataset.violations = String(violations);
    }
  }

  async function check() {
    if (!checkUrl) return;
    if (pending) pending.abort();
    pending = new AbortController();
    try {
      const response = await fetch(checkUrl, { method: "POST", body: new FormData(form), signal: pending.signal,
                                               headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const report = await response.json();
      show(report.results);
      form.dataset.checked = "true";
    } catch (error) {
      if (error.name !== "AbortError") console.warn("checking the form failed", error);
    }
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 500);
  }

  function touch(event) {
    const block = event.target.closest(".form-field");
    if (block) touched.add(block.dataset.field);
  }
  form.addEventListener("input", (event) => {
    if (event.target.classList.contains("option-find")) { find(event.target); return; }
    touch(event);
    later();
  });
  form.addEventListener("change", (event) => {
    if (event.target.classList.contains("option-find")) return;
    touch(event);
    later();
  });

  // A search box above each list of many choices hides the options that do not match.
  function find(input) {
    const wanted = input.value.trim().toLowerCase();
    const select = input.nextElementSibling;
    for (const option of select.querySelectorAll("option")) {
      option.hidden = wanted !== "" && !option.textContent.toLowerCase().includes(wanted) && !option.selected;
    }
  }
  for (const input of form.querySelectorAll(".option-find")) input.hidden = false;

  // Repeatable rows: one spare row is kept empty, and a button adds another.
  for (const group of form.querySelectorAll(".repeat")) {
    const spares = group.querySelectorAll(".repeat-row.spare");
    const template = spares[0].cloneNode(true);
    spares.forEach((row, index) => { if (index > 0) row.remove(); });
    const add = document.createElement("button");
    add.type = "button";
    add.className = "add-row";
    add.textContent = group.dataset.repeat === "author" ? "Add an author" : "Add a contact";
    add.addEventListener("click", () => {
      const row = template.cloneNode(true);
      for (const input of row.querySelectorAll("input")) input.value = "";
      group.insertBefore(row, add);
      row.querySelector("input").focus();
    });
    group.appendChild(add);
  }
  if (touched.size && checkUrl) check();
})();
