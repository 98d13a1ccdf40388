// Actions on a change, as far as the gateway says the visitor may (viewerCan: from the
// change's kind and the visitor's key, no upstream read); failures shown from the payload's
// `errors` (or the request's errors), never swallowed.
import {html, useEffect, useState} from "./vendor/htm-preact-standalone.module.js";
import {apiKey, has, run} from "./api.js";

const MUTATIONS = {
  commentOnChange: "DashboardComment",
  reviewChange: "DashboardReview",
  setChangeState: "DashboardSetState",
  reportCheck: "DashboardReportCheck",
};

function messages(errors) {
  return errors.map((e) => (e.code ? `${e.code}: ${e.message}` : e.message)).join("; ");
}

export function Actions({change, onChanged}) {
  const [can, setCan] = useState(null);
  const [status, setStatus] = useState({error: "", done: ""});
  const [body, setBody] = useState("");
  const [check, setCheck] = useState({context: "", state: "SUCCESS", description: ""});
  const [key, setKey] = useState(apiKey());
  useEffect(() => {
    const changed = () => setKey(apiKey());
    addEventListener("revgate-key", changed);
    return () => removeEventListener("revgate-key", changed);
  }, []);
  useEffect(() => {
    if (!has("DashboardViewerCan")) return;
    run("DashboardViewerCan", {id: change.id}).then(({data}) => setCan(data?.node?.viewerCan ?? null));
  }, [change.id, key]);
  if (!has("DashboardViewerCan") || !can) return "";
  const act = async (field, input, done) => {
    setStatus({error: "", done: ""});
    const {data, errors} = await run(MUTATIONS[field], {input: {change: change.id, ...input}});
    const payload = data?.[field];
    const problems = [...errors, ...(payload?.errors ?? [])];
    if (problems.length) {
      setStatus({error: messages(problems), done: ""});
      return;
    }
    setStatus({error: "", done});
    if (payload?.change) onChanged(payload.change);
  };
  const submitComment = (event) => {
    event.preventDefault();
    act("commentOnChange", {body}, "Comment posted.").then(() => setBody(""));
  };
  const submitCheck = (event) => {
    event.preventDefault();
    act("reportCheck", {...check, description: check.description || null}, "Check reported.");
  };
  const any = can.comment || can.review || can.close || can.reportCheck;
  return html`<section class="actions" aria-labelledby="actions-title">
    <h3 id="actions-title">Actions</h3>
    ${!any ? html`<p class="muted">${key ? "This key may not act on this change." : "Enter an API key (top right) to act."}</p>` : ""}
    ${status.error ? html`<p class="error" role="alert">${status.error}</p>` : ""}
    ${status.done ? html`<p class="done" role="status">${status.done}</p>` : ""}
    ${can.comment && has("DashboardComment") ? html`<form onSubmit=${submitComment}>
      <label for="comment-body">Comment</label>
      <textarea id="comment-body" required value=${body} onInput=${(e) => setBody(e.target.value)}></textarea>
      <button type="submit">Post comment</button>
    </form>` : ""}
    <div class="buttons">
      ${can.review && has("DashboardReview") ? html`
        <button type="button" onClick=${() => act("reviewChange", {verdict: "APPROVE"}, "Approved.")}>Approve</button>
        <button type="button" onClick=${() => act("reviewChange", {verdict: "REQUEST_CHANGES"}, "Changes requested.")}>Request changes</button>` : ""}
      ${can.close && has("DashboardSetState") ? html`
        <button type="button" class="danger" onClick=${() => act("setChangeState", {action: "CLOSE"}, "Closed.")}>Close</button>` : ""}
    </div>
    ${can.reportCheck && has("DashboardReportCheck") ? html`<form onSubmit=${submitCheck}>
      <fieldset><legend>Report a check</legend>
        <label for="check-context">Context</label>
        <input id="check-context" required value=${check.context} onInput=${(e) => setCheck({...check, context: e.target.value})} />
        <label for="check-state">State</label>
        <select id="check-state" value=${check.state} onChange=${(e) => setCheck({...check, state: e.target.value})}>
          ${["SUCCESS", "PENDING", "WARNING", "FAILURE"].map((s) => html`<option value=${s}>${s.toLowerCase()}</option>`)}
        </select>
        <label for="check-description">Description</label>
        <input id="check-description" value=${check.description} onInput=${(e) => setCheck({...check, description: e.target.value})} />
        <button type="submit">Report check</button>
      </fieldset>
    </form>` : ""}
  </section>`;
}
