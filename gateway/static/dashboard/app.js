// The cross-forge review dashboard: one list of every forge's changes (the federated
// `changes`), filters in the URL, live updates, a detail pane and actions. docs/dashboard.md.
import {
  html, render, useEffect, useLayoutEffect, useRef, useState,
} from "./vendor/htm-preact-standalone.module.js";
import {has, run, subscribe} from "./api.js";
import {Detail} from "./detail.js";
import {apiFilter, matchesCheck, readUrl, writeUrl} from "./filters.js";
import {FilterBar, KeyPanel, ThemeButton} from "./controls.js";
import {Row} from "./list.js";
import {HEAD_SIZE, appendPage, mergeHead, restoreAnchor, scrollAnchor} from "./live.js";

const PAGE_SIZE = 30;

function Banner({missing, errors}) {
  if (!missing.length && !errors.length) return "";
  const why = (name) => errors.find((e) => e.extensions?.backend === name)?.extensions?.code;
  return html`<div class="banner" role="alert">
    ${missing.length ? html`<p><strong>Not answering:</strong> ${missing.map((name, i) => html`${i ? ", " : ""}<span class="missing">${name}</span>${why(name) ? ` (${why(name)})` : ""}`)}
      — their changes are missing from this list; the other forges' are shown.</p>` : ""}
    ${!missing.length ? html`<p>${errors.map((e) => e.message).join("; ")}</p>` : ""}
  </div>`;
}

function useList(filters) {
  const [list, setList] = useState({rows: [], cursor: null, hasNext: false, loading: true, missing: [], errors: []});
  const generation = useRef(0);
  const filterKey = JSON.stringify(apiFilter(filters));
  const load = async (reset) => {
    const mine = reset ? ++generation.current : generation.current;
    if (reset) setList((l) => ({...l, rows: [], cursor: null, loading: true, missing: [], errors: []}));
    else setList((l) => ({...l, loading: true}));
    const after = reset ? null : list.cursor;
    const {data, errors} = await run("DashboardChanges", {first: PAGE_SIZE, after, filter: apiFilter(filters)});
    if (mine !== generation.current) return;
    const page = data?.changes;
    setList((l) => ({
      rows: page ? (reset ? page.nodes : appendPage(l.rows, page.nodes)) : l.rows,
      cursor: page?.pageInfo.endCursor ?? l.cursor,
      hasNext: page ? page.pageInfo.hasNextPage : false,
      loading: false,
      missing: page?.missingBackends ?? [],
      errors,
    }));
  };
  useEffect(() => { load(true); }, [filterKey]);
  useEffect(() => { // another key may see other backends (or, on a closed gateway, any)
    const reload = () => load(true);
    addEventListener("revgate-key", reload);
    return () => removeEventListener("revgate-key", reload);
  }, [filterKey]);
  return [list, setList, load, generation];
}

function App() {
  const [route, setRoute] = useState(readUrl());
  const {filters, change} = route;
  const [list, setList, load] = useList(filters);
  const [marks, setMarks] = useState({});
  const [related, setRelated] = useState({});
  const [selected, setSelected] = useState(-1);
  const scroller = useRef(null);
  const anchor = useRef(null);
  const sentinel = useRef(null);
  const filtersRef = useRef(filters);
  filtersRef.current = filters;

  const navigate = (next, replace = false) => {
    writeUrl(next, replace);
    setRoute(next);
  };
  useEffect(() => {
    const pop = () => setRoute(readUrl());
    addEventListener("popstate", pop);
    return () => removeEventListener("popstate", pop);
  }, []);

  // Live: each event reads the list's head again (and the event's patch, if shown).
  useEffect(() => {
    let timer = null;
    const refresh = async (patchId) => {
      const {data} = await run("DashboardChanges", {first: HEAD_SIZE, filter: apiFilter(filtersRef.current)});
      const head = data?.changes?.nodes ?? [];
      const extra = [];
      if (patchId) {
        const one = await run("DashboardRow", {id: patchId});
        if (one.data?.node) extra.push(one.data.node);
      }
      setList((l) => {
        const fresh = [...head, ...extra.filter((row) => l.rows.some((r) => r.id === row.id))];
        const merged = mergeHead(l.rows, fresh);
        if (!Object.keys(merged.marks).length) return l;
        anchor.current = scrollAnchor(scroller.current);
        setMarks((m) => ({...m, ...merged.marks}));
        return {...l, rows: merged.rows};
      });
    };
    return subscribe("DashboardEvents", (event) => {
      clearTimeout(timer);
      timer = setTimeout(() => refresh(event.patch?.id), 300);
    });
  }, []);
  useLayoutEffect(() => {
    restoreAnchor(scroller.current, anchor.current);
    anchor.current = null;
  }, [list.rows]);

  // Related-change markers, read after each page (they cost reads: never in the list query).
  useEffect(() => {
    if (!has("DashboardRowsRelated")) return;
    const ids = list.rows.map((r) => r.id).filter((id) => !(id in related));
    if (!ids.length) return;
    run("DashboardRowsRelated", {ids}).then(({data}) => {
      const found = {};
      for (const node of data?.nodes ?? []) if (node) found[node.id] = node.related ?? [];
      for (const id of ids) if (!(id in found)) found[id] = [];
      setRelated((r) => ({...r, ...found}));
    });
  }, [list.rows]);

  const rows = list.rows.filter((row) => matchesCheck(filters, row));
  // Infinite scroll on the composite cursor.
  useEffect(() => {
    if (!sentinel.current) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && list.hasNext && !list.loading) load(false);
    }, {root: scroller.current});
    observer.observe(sentinel.current);
    return () => observer.disconnect();
  }, [list.hasNext, list.loading, list.cursor]);

  const open = (id) => navigate({filters, change: id});
  const close = () => navigate({filters, change: ""});
  const changed = (row) => setList((l) => ({...l, rows: l.rows.map((r) => (r.id === row.id ? {...r, ...row} : r))}));
  useKeys({rows, selected, setSelected, open, close, change});

  return html`
    <header class="top">
      <h1>revgate <span class="muted">reviews across forges</span></h1>
      <div class="tools"><${KeyPanel} /><${ThemeButton} /></div>
    </header>
    <${FilterBar} filters=${filters} onChange=${(f) => navigate({filters: f, change})} />
    <${Banner} missing=${list.missing} errors=${list.errors} />
    <div class=${`panes${change ? " detail-open" : ""}`}>
      <main class="list" ref=${scroller} aria-label="Changes" aria-busy=${list.loading}>
        <ol class="rows">
          ${rows.map((row, i) => html`<${Row} key=${row.id} row=${row} selected=${i === selected || row.id === change}
            mark=${marks[row.id]} related=${related[row.id]} onOpen=${open} />`)}
        </ol>
        ${!list.loading && !rows.length ? html`<p class="empty">No changes match these filters.</p>` : ""}
        ${list.loading ? html`<p class="muted loading">Loading changes…</p>` : ""}
        ${list.hasNext && !list.loading ? html`<button type="button" class="more" onClick=${() => load(false)}>Load more</button>` : ""}
        <div ref=${sentinel} class="sentinel"></div>
      </main>
      ${change ? html`<${Detail} id=${change} onClose=${close} onOpen=${open} onChanged=${changed} />` : ""}
    </div>`;
}

function useKeys({rows, selected, setSelected, open, close, change}) {
  const at = useRef(selected); // keys can come faster than renders
  at.current = selected;
  useEffect(() => {
    const keydown = (event) => {
      const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
      if (event.key === "Escape" && change) { close(); return; }
      if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
      const move = (to) => {
        const index = Math.max(0, Math.min(rows.length - 1, to));
        at.current = index;
        setSelected(index);
        const element = document.querySelectorAll(".rows .row-open")[index];
        element?.focus();
        element?.scrollIntoView({block: "nearest"});
      };
      if (event.key === "j") move(at.current + 1);
      else if (event.key === "k") move(at.current - 1);
      else if (event.key === "Enter" && rows[at.current] && event.target === document.body) open(rows[at.current].id);
      else if (event.key === "/") { event.preventDefault(); document.getElementById("filter-q")?.focus(); }
    };
    addEventListener("keydown", keydown);
    return () => removeEventListener("keydown", keydown);
  }, [rows, selected, change]);
}

render(html`<${App} />`, document.getElementById("app"));
