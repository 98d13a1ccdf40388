// The filter bar (its values are the URL's), the API key panel and the theme switch.
import {html, useEffect, useState} from "./vendor/htm-preact-standalone.module.js";
import {apiKey, has, run, setApiKey} from "./api.js";
import {CHECK_STATES, STATES} from "./filters.js";

function Select({id, label, value, options, onChange, onFocus}) {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <select id=${id} value=${value} onChange=${(e) => onChange(e.target.value)} onFocus=${onFocus} onPointerDown=${onFocus}>
      <option value="">any</option>
      ${options.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
    </select>
  </div>`;
}

/** Person text → the identities it names (issue 16's `people`), when this gateway has it. */
async function findPeople(text) {
  if (!text || !has("DashboardPeople")) return [];
  const {data} = await run("DashboardPeople", {search: text});
  return data?.people?.nodes ?? [];
}

function forges(identity) {
  return [...new Set(identity.accounts.map((a) => a.backend.name))].join(", ");
}

export function FilterBar({filters, onChange}) {
  const [backends, setBackends] = useState([]);
  const [projects, setProjects] = useState(null);
  const [text, setText] = useState({q: filters.q, person: filters.person});
  const [found, setFound] = useState([]);
  // Projects cost a read of every backend: read when the list is opened (or a link names one).
  const loadProjects = () => {
    if (projects !== null) return;
    setProjects([]);
    run("DashboardProjects").then(({data}) => setProjects(data?.projects?.nodes ?? []));
  };
  useEffect(() => {
    run("DashboardBackends").then(({data}) => setBackends(data?.backends ?? []));
    if (filters.project) loadProjects();
  }, []);
  useEffect(() => setText({q: filters.q, person: filters.person}), [filters.q, filters.person]);
  const set = (patch) => onChange({...filters, ...patch});
  const submit = async (event) => {
    event.preventDefault();
    const patch = {q: text.q.trim(), person: text.person.trim(), personId: ""};
    if (patch.person && patch.person !== filters.person) {
      const people = await findPeople(patch.person);
      setFound(people);
      if (people.length) patch.personId = people[0].id; // the best match; others offered
    } else if (patch.person) patch.personId = filters.personId;
    set(patch);
  };
  const shownProjects = (projects ?? []).filter((p) => !filters.backend || p.backend.name === filters.backend);
  return html`<form class="filters" role="search" aria-label="Filter changes" onSubmit=${submit}>
    <${Select} id="filter-backend" label="Forge" value=${filters.backend}
      options=${backends.map((b) => [b.name, `${b.name} (${b.kind.toLowerCase().replace("_", "-")})`])}
      onChange=${(v) => set({backend: v, project: ""})} />
    <${Select} id="filter-project" label="Project" value=${filters.project}
      options=${shownProjects.map((p) => [p.id, `${p.name} (${p.backend.name})`])}
      onChange=${(v) => set({project: v})} onFocus=${loadProjects} />
    <${Select} id="filter-state" label="State" value=${filters.state}
      options=${STATES.map((s) => [s, s.replace("_", " ").toLowerCase()])} onChange=${(v) => set({state: v})} />
    <${Select} id="filter-check" label="Checks" value=${filters.check}
      options=${CHECK_STATES.map((s) => [s, s === "NONE" ? "no checks" : s.toLowerCase()])} onChange=${(v) => set({check: v})} />
    <div class="field">
      <label for="filter-person">Person</label>
      <input id="filter-person" type="search" placeholder="name, email or username"
        value=${text.person} onInput=${(e) => setText({...text, person: e.target.value})} />
    </div>
    <div class="field grow">
      <label for="filter-q">Text <span class="muted">(/)</span></label>
      <input id="filter-q" type="search" placeholder="in titles"
        value=${text.q} onInput=${(e) => setText({...text, q: e.target.value})} />
    </div>
    <button type="submit">Apply</button>
    ${filters.personId && found.length ? html`<div class="who" role="status">
      ${found.filter((p) => p.id === filters.personId).map((p) => html`<span key=${p.id}>${p.displayName}: ${p.accounts.length} account(s) on ${forges(p)}</span>`)}
      ${found.length > 1 ? html` — or: ${found.filter((p) => p.id !== filters.personId).map((p) => html`<button type="button" class="link" key=${p.id}
        onClick=${() => set({personId: p.id})}>${p.displayName} (${forges(p)})</button> `)}` : ""}
    </div>` : ""}
  </form>`;
}

export function KeyPanel() {
  const [open, setOpen] = useState(false);
  const [value, setValue] = useState("");
  const [saved, setSaved] = useState(Boolean(apiKey()));
  const save = (event) => {
    event.preventDefault();
    setApiKey(value.trim());
    setSaved(Boolean(value.trim()));
    setValue("");
    setOpen(false);
  };
  const forget = () => { setApiKey(""); setSaved(false); setOpen(false); };
  return html`<div class="keypanel">
    <button type="button" aria-expanded=${open} onClick=${() => setOpen(!open)}>
      ${saved ? "API key ✓" : "API key"}</button>
    ${open ? html`<form class="popover key-form" onSubmit=${save}>
      <label for="api-key">API key (kept in this browser)</label>
      <input id="api-key" type="password" autocomplete="off" value=${value} onInput=${(e) => setValue(e.target.value)} />
      <button type="submit">Save</button>
      ${saved ? html`<button type="button" onClick=${forget}>Forget</button>` : ""}
    </form>` : ""}
  </div>`;
}

const THEMES = ["auto", "light", "dark"];

export function ThemeButton() {
  const stored = () => { try { return localStorage.getItem("revgate.theme") || "auto"; } catch { return "auto"; } };
  const [theme, setTheme] = useState(stored());
  useEffect(() => {
    if (theme === "auto") delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
    try { localStorage.setItem("revgate.theme", theme); } catch { /* private mode */ }
  }, [theme]);
  const next = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
  return html`<button type="button" onClick=${() => setTheme(next)} aria-label=${`Theme: ${theme} (switch to ${next})`}>
    Theme: ${theme}</button>`;
}
