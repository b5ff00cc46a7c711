// Signing in: the login dialog shows when the server refuses our token (HTTP 401 or the live socket closing
// with 4401), never before — a gateway without authentication needs no login. Once signed in, the page knows
// the role (GET /api/v1/me) and marks <body data-role>, so actions a role may not take are not offered; the
// server enforces the same rules whatever the page shows.

import * as api from "./api.js";
import { query } from "./dom.js";
import { t } from "./i18n.js";

const dialog = query("login-dialog");
const form = query("login-form");
const error = query("login-error");
const user = query("user");
const userName = query("user-name");
const supervisorField = query("supervisor-field");

let me = null;
let onSignedIn = () => {};

/** Who is signed in ({subject, role, ...}), or null. */
export function currentUser() {
  return me;
}

/** `callback()` runs after a successful sign-in (the live feed reconnects with the new token). */
export function wireAuth(callback) {
  onSignedIn = callback;
  api.onUnauthorised(() => {
    me = null;
    api.setToken(null);
    drawUser();
    if (!dialog.open) dialog.showModal();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const data = new FormData(form);
    try {
      await api.login(String(data.get("username")), String(data.get("password")));
    } catch (failure) {
      error.textContent = failure instanceof api.ApiError && failure.status === 401 ? t("auth.failed") : t("auth.unreachable");
      error.hidden = false;
      return;
    }
    form.reset();
    dialog.close();
    await loadUser();
    onSignedIn();
  });
  // The dialog cannot be dismissed: without a token nothing works.
  dialog.addEventListener("cancel", (event) => event.preventDefault());
  query("logout").addEventListener("click", () => {
    api.setToken(null);
    location.reload();
  });
  if (api.token()) loadUser();
}

async function loadUser() {
  try {
    me = await api.whoAmI();
  } catch {
    me = null; // a 401 has already opened the dialog
  }
  drawUser();
}

/** Redraws the signed-in user in the header (after sign-in and on a language change). */
export function drawUser() {
  document.body.dataset.role = me?.role ?? "";
  user.hidden = !me;
  supervisorField.hidden = Boolean(me); // the server signs actions with the account's name
  if (me) userName.textContent = t("auth.user", { user: me.subject, role: t(`role.${me.role}`) });
}
