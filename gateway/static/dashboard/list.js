// The change list's rows: forge and kind, project, title, author, state, check rollup (its
// checks read on hover or expand), age, related-change markers, new/updated marks.
import {html, useState} from "./vendor/htm-preact-standalone.module.js";
import {run} from "./api.js";

export const KIND_LABELS = {
  PATCHWORK: "Patchwork",
  PATCHWORK_FDO: "Patchwork (fdo)",
  GERRIT: "Gerrit",
  ABF: "ABF",
};

export function age(iso, now = Date.now()) {
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  const steps = [[60, "s"], [60, "min"], [24, "h"], [30, "d"], [12, "mo"]];
  let value = seconds;
  for (const [size, unit] of steps) {
    if (value < size) return `${Math.floor(value)} ${unit}`;
    value /= size;
  }
  return `${Math.floor(value)} y`;
}

export function person(author) {
  if (!author) return "unknown";
  return author.displayName || author.name || author.username || author.email || "unknown";
}

export function StateBadge({state}) {
  return html`<span class="badge state state-${state.toLowerCase()}">${state.replace("_", " ").toLowerCase()}</span>`;
}

export function CheckList({checks}) {
  if (!checks) return html`<p class="muted">The checks could not be read.</p>`;
  if (!checks.length) return html`<p class="muted">No checks.</p>`;
  return html`<ul class="checks">
    ${checks.map((c) => html`<li key=${c.id || c.context}>
      <span class="badge check check-${c.state.toLowerCase()}">${c.state.toLowerCase()}</span>
      ${" "}${c.targetUrl ? html`<a href=${c.targetUrl} rel="noreferrer">${c.context}</a>` : c.context}
      ${c.description ? html`<span class="muted"> — ${c.description}</span>` : ""}
    </li>`)}
  </ul>`;
}

function CheckBadge({row}) {
  const [open, setOpen] = useState(false);
  const [checks, setChecks] = useState(undefined);
  const load = async () => {
    if (checks !== undefined) return;
    setChecks(null);
    const {data} = await run("DashboardChecks", {id: row.id});
    setChecks(data?.node?.checks ?? []);
  };
  if (!row.checkState) return html`<span class="badge check check-none">no checks</span>`;
  const toggle = (event) => {
    event.stopPropagation();
    setOpen(!open);
    load();
  };
  return html`<span class="checkbox" onMouseEnter=${load}>
    <button type="button" class="badge check check-${row.checkState.toLowerCase()}"
      aria-expanded=${open} onClick=${toggle}
      aria-label=${`checks: ${row.checkState.toLowerCase()} (show checks)`}>
      checks: ${row.checkState.toLowerCase()}
    </button>
    ${open ? html`<div class="popover" role="region" aria-label="Checks">
      ${checks === undefined || checks === null ? html`<p class="muted">Reading…</p>` : html`<${CheckList} checks=${checks} />`}
    </div>` : ""}
  </span>`;
}

export function Row({row, selected, mark, related, onOpen}) {
  const kind = row.backend.kind;
  return html`<li class=${`row${selected ? " selected" : ""}${mark ? " marked" : ""}`}
      data-id=${row.id} data-kind=${kind} aria-current=${selected ? "true" : undefined}>
    <div class="row-top">
      <span class="badge forge kind-${kind.toLowerCase()}">${row.backend.name} · ${KIND_LABELS[kind] || kind}</span>
      <span class="project">${row.project.name}</span>
      ${mark ? html`<span class="badge mark">${mark}</span>` : ""}
      ${related && related.length ? html`<span class="badge related" title="the same work on other forges">
        ↔ ${[...new Set(related.map((r) => r.change.backend.name))].join(", ")}</span>` : ""}
    </div>
    <button type="button" class="row-open" onClick=${() => onOpen(row.id)}>${row.title}</button>
    <div class="row-bottom">
      <span class="author">${person(row.author)}</span>
      <${StateBadge} state=${row.state} />
      <${CheckBadge} row=${row} />
      <time datetime=${row.updatedAt} title=${row.updatedAt}>${age(row.updatedAt)} ago</time>
    </div>
  </li>`;
}
