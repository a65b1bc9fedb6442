/* global window, document, location, history, DOMParser */
// rolecall's status page in the browser: filters the cards where they are, keeps the filter in the URL's hash (so
// a link or a reload keeps it), and refreshes the page in place by fetching it again. The server renders all of
// it, escaped; this script only hides cards and swaps in the fresh summary and content.
"use strict";

(() => {
  const body = document.body;
  const refreshMs = Number(body.dataset.refreshMs) || 5000;
  const text = document.getElementById("filter-text");
  const state = document.getElementById("filter-state");
  const shown = document.getElementById("filter-count");
  const note = document.getElementById("refresh-note");
  let etag = body.dataset.etag || null;

  const readHash = () => {
    const params = new URLSearchParams(location.hash.slice(1));
    return { text: params.get("q") || "", state: params.get("state") || "" };
  };

  const writeHash = () => {
    const params = new URLSearchParams();
    if (text.value !== "") params.set("q", text.value);
    if (state.value !== "") params.set("state", state.value);
    const hash = params.toString();
    history.replaceState(null, "", hash === "" ? location.pathname : `#${hash}`);
  };

  /** Shows the cards whose name or a bucket contains the text, and that are in the chosen state. */
  const applyFilter = () => {
    if (text === null || state === null) return;
    const wanted = text.value.trim().toLowerCase();
    const chosen = state.value;
    const cards = document.querySelectorAll(".card[data-name]");
    let visible = 0;
    for (const card of cards) {
      const buckets = card.dataset.buckets === "" ? [] : card.dataset.buckets.split(" ");
      const named =
        wanted === "" ||
        card.dataset.name.toLowerCase().includes(wanted) ||
        buckets.some((bucket) => bucket.toLowerCase().includes(wanted));
      const inState = chosen === "" || card.dataset.states.split(" ").includes(chosen);
      card.hidden = !(named && inState);
      if (!card.hidden) visible += 1;
    }
    shown.textContent = wanted === "" && chosen === "" ? "" : `${visible} of ${cards.length} shown`;
  };

  const takeHash = () => {
    if (text === null || state === null) return;
    const filter = readHash();
    text.value = filter.text;
    state.value = [...state.options].some((option) => option.value === filter.state) ? filter.state : "";
    applyFilter();
  };

  const say = (message, problem) => {
    if (note === null) return;
    note.textContent = message;
    note.className = problem ? "bad" : "muted";
  };

  /** Replaces the summary and the content with the fresh page's; sections opened or closed stay so. */
  const swap = (fresh) => {
    const folded = new Map();
    for (const details of document.querySelectorAll("details[data-key]"))
      folded.set(details.dataset.key, details.open);
    for (const id of ["summary", "content"]) {
      const current = document.getElementById(id);
      const next = fresh.getElementById(id);
      if (current !== null && next !== null) current.replaceWith(document.adoptNode(next));
    }
    for (const details of document.querySelectorAll("details[data-key]"))
      if (folded.has(details.dataset.key)) details.open = folded.get(details.dataset.key);
    applyFilter();
  };

  const refresh = async () => {
    if (document.hidden) return;
    try {
      const headers = { accept: "text/html" };
      if (etag !== null) headers["if-none-match"] = etag;
      const response = await fetch(location.pathname, { headers, cache: "no-store" });
      if (response.status === 304) {
        say(`checked ${new Date().toLocaleTimeString()}`, false);
        return;
      }
      if (!response.ok) {
        say(`refresh failed: HTTP ${response.status}; showing what was last loaded`, true);
        return;
      }
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      etag = page.body.dataset.etag || response.headers.get("etag");
      swap(page);
      say(`updated ${new Date().toLocaleTimeString()}`, false);
    } catch {
      say("refresh failed: the daemon did not answer; showing what was last loaded", true);
    }
  };

  const loop = () => {
    setTimeout(() => {
      void refresh().finally(loop);
    }, refreshMs);
  };

  if (text !== null && state !== null) {
    text.addEventListener("input", () => {
      applyFilter();
      writeHash();
    });
    state.addEventListener("change", () => {
      applyFilter();
      writeHash();
    });
    window.addEventListener("hashchange", takeHash);
    takeHash();
  }
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) void refresh();
  });
  loop();
})();
