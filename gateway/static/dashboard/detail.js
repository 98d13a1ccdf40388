// The detail pane: revisions / patch sets / PR head with their checks, comments, series and
// cover letter, related changes on other forges, the forge's own page, mbox/patch downloads,
// and the actions the visitor may take (viewerCan).
import {html, useEffect, useState} from "./vendor/htm-preact-standalone.module.js";
import {has, run} from "./api.js";
import {Actions} from "./actions.js";
import {CheckList, KIND_LABELS, StateBadge, age, person} from "./list.js";

function Section({title, children}) {
  const id = `section-${title.toLowerCase().replace(/[^a-z]+/g, "-")}`;
  return html`<section aria-labelledby=${id}><h3 id=${id}>${title}</h3>${children}</section>`;
}

function Downloads({change}) {
  const links = [];
  if (change.mboxUrl) links.push(["patch mbox", change.mboxUrl]);
  for (const series of change.series || []) {
    if (series.mboxUrl) links.push([`series mbox (v${series.version})`, series.mboxUrl]);
  }
  if (change.__typename === "GerritChange" && change.backend.url) {
    const base = change.backend.url.replace(/\/$/, "");
    links.push(["patch (base64)", `${base}/changes/${change.number}/revisions/current/patch?download`]);
  }
  if (!links.length) return "";
  return html`<${Section} title="Downloads"><ul class="links">
    ${links.map(([label, url]) => html`<li key=${url}><a href=${url} rel="noreferrer">${label}</a></li>`)}
  </ul></${Section}>`;
}

function Revisions({change}) {
  if (change.__typename === "GerritChange") {
    return html`<${Section} title="Patch sets"><ol class="revisions">
      ${change.revisions.map((r) => html`<li key=${r.number}>patch set ${r.number}${" "}<code>${r.sha.slice(0, 12)}</code>${r.isCurrent ? " (current)" : ""}</li>`)}
    </ol>
    ${change.labels.length ? html`<ul class="labels">${change.labels.map((l) => html`<li key=${l.name}>
      ${l.name}: ${l.approved ? `approved by ${l.approved.displayName}` : l.rejected ? `rejected by ${l.rejected.displayName}` : "no vote"}</li>`)}</ul>` : ""}
    </${Section}>`;
  }
  if (change.__typename === "PullRequest") {
    return html`<${Section} title="Head">
      <p><code>${change.fromRef.ref}</code> → <code>${change.toRef.ref}</code>
        ${change.fromRef.sha ? html` at <code>${change.fromRef.sha.slice(0, 12)}</code>` : ""}</p>
      <ol class="revisions">${change.commits.map((c) => html`<li key=${c.sha}>
        <code>${c.sha.slice(0, 12)}</code> ${c.message.split("\n")[0]}</li>`)}</ol>
    </${Section}>`;
  }
  const revisions = (change.series || []).flatMap((s) => s.revisions || []);
  if (!revisions.length) {
    const rev = change.currentRevision;
    return rev?.sha ? html`<${Section} title="Revision"><p><code>${rev.sha}</code></p></${Section}>` : "";
  }
  return html`<${Section} title="Revisions">${revisions.map((r) => html`<div key=${r.version} class="revision">
    <h4>Revision ${r.version} ${r.testState ? html`<span class="badge check check-${r.testState.toLowerCase()}">${r.testState.toLowerCase()}</span>` : ""}</h4>
    <${CheckList} checks=${r.testResults} />
  </div>`)}</${Section}>`;
}

function Series({change}) {
  if (!change.series?.length) return "";
  return html`<${Section} title="Series">${change.series.map((s) => html`<div key=${s.id} class="series">
    <p><strong>${s.name || "(no name)"}</strong> v${s.version}
      ${s.total ? html` — ${s.receivedTotal ?? "?"}/${s.total} patches` : ""}
      ${s.webUrl ? html` — <a href=${s.webUrl} rel="noreferrer">series page</a>` : ""}</p>
    ${s.patches?.length ? html`<ol>${s.patches.map((p) => html`<li key=${p.id}>${p.title}</li>`)}</ol>` : ""}
    ${s.cover ? html`<details><summary>Cover letter: ${s.cover.title}</summary>
      <pre class="text">${s.cover.content || ""}</pre></details>` : ""}
  </div>`)}</${Section}>`;
}

function Related({id, onOpen}) {
  const [links, setLinks] = useState(undefined);
  useEffect(() => {
    setLinks(undefined);
    run("DashboardRelated", {id}).then(({data}) => setLinks(data?.node?.related ?? null));
  }, [id]);
  return html`<${Section} title="Related changes">
    ${links === undefined ? html`<p class="muted">Reading…</p>`
      : links === null ? html`<p class="muted">The related changes could not be read.</p>`
      : !links.length ? html`<p class="muted">None found on other forges.</p>`
      : html`<ul class="related-list">${links.map((l) => html`<li key=${l.change.id}>
          <span class="badge forge kind-${l.change.backend.kind.toLowerCase()}">${l.change.backend.name}</span>
          ${" "}<button type="button" class="link" onClick=${() => onOpen(l.change.id)}>${l.change.title}</button>
          <span class="muted"> — ${l.evidence.join(", ").toLowerCase().replace(/_/g, " ")} (${Math.round(l.confidence * 100)} %)</span>
        </li>`)}</ul>`}
  </${Section}>`;
}

function Comments({comments}) {
  if (!comments) return html`<${Section} title="Comments"><p class="muted">The comments could not be read.</p></${Section}>`;
  return html`<${Section} title=${`Comments (${comments.totalCount ?? comments.nodes.length})`}>
    ${comments.nodes.length ? html`<ol class="comments">${comments.nodes.map((c) => html`<li key=${c.id}>
      <p class="muted">${person(c.author)}, <time datetime=${c.date}>${age(c.date)} ago</time></p>
      <pre class="text">${c.content || ""}</pre></li>`)}</ol>` : html`<p class="muted">No comments.</p>`}
  </${Section}>`;
}

export function Detail({id, onClose, onOpen, onChanged}) {
  const [change, setChange] = useState(undefined);
  const [error, setError] = useState("");
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let live = true;
    run("DashboardChange", {id}).then(({data, errors}) => {
      if (!live) return;
      setChange(data?.node ?? null);
      setError(errors.length ? errors.map((e) => e.message).join("; ") : "");
    });
    return () => { live = false; };
  }, [id, version]);
  const changed = (row) => { onChanged(row); setVersion(version + 1); };
  return html`<aside class="detail" aria-label="Change detail">
    <button type="button" class="close" onClick=${onClose}>← Back to the list</button>
    ${change === undefined ? html`<p class="muted">Reading…</p>` : ""}
    ${error ? html`<p class="error" role="alert">${error}</p>` : ""}
    ${change ? html`<article>
      <h2>${change.title}</h2>
      <p>
        <span class="badge forge kind-${change.backend.kind.toLowerCase()}">${change.backend.name} · ${KIND_LABELS[change.backend.kind]}</span>
        ${" "}<${StateBadge} state=${change.state} />
        ${" "}${change.project.name} — ${person(change.author)} — updated <time datetime=${change.updatedAt}>${age(change.updatedAt)} ago</time>
      </p>
      ${change.webUrl ? html`<p><a href=${change.webUrl} rel="noreferrer">Open on ${change.backend.name}</a></p>` : ""}
      <${Section} title="Checks"><${CheckList} checks=${change.checks} /></${Section}>
      <${Revisions} change=${change} />
      <${Series} change=${change} />
      ${has("DashboardRelated") ? html`<${Related} id=${id} onOpen=${onOpen} />` : ""}
      <${Downloads} change=${change} />
      ${change.body ? html`<${Section} title="Description"><pre class="text">${change.body}</pre></${Section}>` : ""}
      <${Comments} comments=${change.comments} />
      <${Actions} change=${change} onChanged=${changed} />
    </article>` : ""}
  </aside>`;
}
