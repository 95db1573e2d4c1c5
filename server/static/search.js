// Makes the search and explore pages quicker: a change to a filter, the sort, a page link or a
// removed filter fetches the new results without reloading the page, and the address bar keeps
// the same URL that the form would have loaded. Without this script the form works as it is.
(function () {
  "use strict";

  const area = document.getElementById("search-area");
  if (!area || !window.fetch || !window.history.pushState) return;
  let pending = null;
  let typingTimer = null;

  function formUrl(form) {
    const pairs = [];
    for (const [name, value] of new FormData(form)) {
      if (String(value).trim() !== "") pairs.push([name, value]);
    }
    const query = new URLSearchParams(pairs).toString();
    return form.getAttribute("action") + (query ? "?" + query : "");
  }

  async function load(url, push) {
    if (pending) pending.abort();
    pending = new AbortController();
    const results = document.getElementById("results");
    results.setAttribute("aria-busy", "true");
    const focusedId = document.activeElement && document.activeElement.id;
    const caret = focusedId && document.activeElement.selectionStart;
    try {
      const response = await fetch(url, { headers: { Accept: "text/html" }, signal: pending.signal });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById("search-area");
      if (!fresh) { window.location.assign(url); return; }
      area.replaceChildren(...fresh.childNodes);
      document.title = page.title;
      if (push) window.history.pushState({ url }, "", url);
      enhance();
      if (focusedId) {
        const again = document.getElementById(focusedId);
        if (again) {
          again.focus();
          if (typeof caret === "number" && again.setSelectionRange) {
            try { again.setSelectionRange(caret, caret); } catch (ignored) { /* not a text field */ }
          }
        }
      }
      document.dispatchEvent(new CustomEvent("umud:results", { detail: { url } }));
    } catch (error) {
      if (error.name !== "AbortError") window.location.assign(url);
    } finally {
      const now = document.getElementById("results");
      if (now) now.setAttribute("aria-busy", "false");
    }
  }

  function enhance() {
    const form = document.getElementById("search-form");
    if (!form) return;
    const apply = document.getElementById("apply");
    if (apply) apply.hidden = true;
    form.addEventListener("change", (event) => {
      if (event.target.classList.contains("facet-find")) return;
      load(formUrl(form), true);
    });
    form.addEventListener("input", (event) => {
      const target = event.target;
      if (target.classList.contains("facet-find")) { findInFacet(target); return; }
      if (target.type !== "search" && target.type !== "number" && target.type !== "text") return;
      window.clearTimeout(typingTimer);
      typingTimer = window.setTimeout(() => load(formUrl(form), true), 400);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      window.clearTimeout(typingTimer);
      load(formUrl(form), true);
    });
    for (const find of form.querySelectorAll(".facet-find")) find.hidden = false;
  }

  function findInFacet(input) {
    const wanted = input.value.trim().toLowerCase();
    const list = input.parentElement.querySelector(".facet-values");
    for (const item of list.children) {
      const label = item.querySelector(".facet-label").textContent.toLowerCase();
      item.hidden = wanted !== "" && !label.includes(wanted);
    }
  }

  // Links inside the results (pages, sort headings, removing a filter) load in place too;
  // downloads and links to other pages do not.
  area.addEventListener("click", (event) => {
    const link = event.target.closest("a");
    if (!link || link.hasAttribute("download") || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin || url.pathname !== window.location.pathname) return;
    if (url.searchParams.has("format")) return;
    event.preventDefault();
    load(url.pathname + url.search, true);
  });

  window.addEventListener("popstate", () => load(window.location.pathname + window.location.search, false));
  enhance();
})();
