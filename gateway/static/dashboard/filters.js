// Filters live in the URL (shareable; the back button walks them): ?backend= &project=
// &person= (&personId= once a person is picked) &state= &check= &q= &change= (open detail).
export const FIELDS = ["backend", "project", "person", "personId", "state", "check", "q"];
export const STATES = [
  "OPEN", "CHANGES_REQUESTED", "DEFERRED", "DRAFT", "MERGED", "CLOSED", "SUPERSEDED",
];
export const CHECK_STATES = ["SUCCESS", "PENDING", "WARNING", "FAILURE", "NONE"];

export function readUrl() {
  const params = new URLSearchParams(location.search);
  const filters = {};
  for (const field of FIELDS) filters[field] = params.get(field) || "";
  return {filters, change: params.get("change") || ""};
}

export function writeUrl({filters, change}, replace = false) {
  const params = new URLSearchParams();
  for (const field of FIELDS) if (filters[field]) params.set(field, filters[field]);
  if (change) params.set("change", change);
  const query = params.toString();
  const url = `${location.pathname}${query ? "?" + query : ""}`;
  if (url === `${location.pathname}${location.search}`) return;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
}

/** The API's ChangeFilterInput for the URL's filters (check state is applied on the page:
 * the API has no check filter). People: an Identity id when one was picked from `people`,
 * else the text as `author` (an email, username or name on every forge). */
export function apiFilter(filters) {
  const out = {};
  if (filters.backend) out.backends = [filters.backend];
  if (filters.project) out.projects = [filters.project];
  if (filters.state) out.states = [filters.state];
  if (filters.q) out.search = filters.q;
  if (filters.personId) out.people = [filters.personId];
  else if (filters.person) out.author = filters.person;
  return out;
}

export function matchesCheck(filters, row) {
  if (!filters.check) return true;
  if (filters.check === "NONE") return !row.checkState;
  return row.checkState === filters.check;
}
