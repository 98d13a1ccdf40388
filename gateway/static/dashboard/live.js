// Live updates: the list's newest rows read again when an event arrives, merged into what is
// shown — new rows and changed ones marked, order kept by last activity.
export const HEAD_SIZE = 20;

function fingerprint(row) {
  return [row.updatedAt, row.state, row.checkState, row.title].join("|");
}

/** rows + a fresh head → {rows, marks}: marks[id] is "new" or "updated". */
export function mergeHead(rows, head) {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const marks = {};
  for (const row of head) {
    const old = byId.get(row.id);
    if (!old) marks[row.id] = "new";
    else if (fingerprint(old) !== fingerprint(row)) marks[row.id] = "updated";
    byId.set(row.id, row);
  }
  const merged = [...byId.values()];
  merged.sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt));
  return {rows: merged, marks};
}

/** Appends a next page, skipping rows already shown (a live update may have moved them up). */
export function appendPage(rows, page) {
  const seen = new Set(rows.map((row) => row.id));
  return [...rows, ...page.filter((row) => !seen.has(row.id))];
}

/** Keeps the first visible row where it is on screen across a re-render of `container`. */
export function scrollAnchor(container) {
  if (!container || container.scrollTop <= 0) return null;
  const top = container.getBoundingClientRect().top;
  for (const element of container.querySelectorAll("[data-id]")) {
    const box = element.getBoundingClientRect();
    if (box.bottom > top) return {id: element.dataset.id, offset: box.top - top};
  }
  return null;
}

export function restoreAnchor(container, anchor) {
  if (!container || !anchor) return;
  const element = container.querySelector(`[data-id="${CSS.escape(anchor.id)}"]`);
  if (!element) return;
  const top = container.getBoundingClientRect().top;
  container.scrollTop += element.getBoundingClientRect().top - top - anchor.offset;
}
