// The dashboard shell: sign in, navigation (hash routes), sign out.
import * as api from "./api.js";
import { h, replace, errorBox } from "./dom.js";
import overview from "./screens/overview.js";
import requests from "./screens/requests.js";
import keys from "./screens/keys.js";
import teams from "./screens/teams.js";
import spend from "./screens/spend.js";
import deployments from "./screens/deployments.js";
import routing from "./screens/routing.js";
import playground from "./screens/playground.js";
import audit from "./screens/audit.js";
import system from "./screens/system.js";

const SCREENS = [overview, requests, keys, teams, spend, deployments, routing, playground, audit, system];
const $ = (id) => document.getElementById(id);
let session = null;

function can(permission) {
  return session !== null && session.permissions.includes(permission);
}

function showLogin(message) {
  session = null;
  api.signOut();
  $("shell").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message ?? "";
  $("login-key").value = "";
  $("login-key").focus();
}

async function login(event) {
  event.preventDefault();
  const key = $("login-key").value.trim();
  $("login-error").textContent = "";
  api.signIn(key);
  try {
    session = await api.get("/ui/session");
  } catch (error) {
    showLogin(error.status === 401 ? "That key was not accepted." : String(error.message));
    return;
  }
  $("login-key").value = "";
  $("login").hidden = true;
  $("shell").hidden = false;
  const who = session.key_id ? `${session.key_id} (${session.role})` : `${session.kind} (${session.role})`;
  $("who").textContent = who;
  renderNav();
  route();
}

function renderNav() {
  replace(
    $("nav-links"),
    SCREENS.map((s) => h("li", {}, h("a", { href: `#/${s.id}`, id: `nav-${s.id}`, "data-screen": s.id }, s.title))),
  );
}

function route() {
  if (session === null) return;
  const id = window.location.hash.replace(/^#\//, "") || "overview";
  const screen = SCREENS.find((s) => s.id === id) ?? SCREENS[0];
  for (const link of document.querySelectorAll("#nav-links a")) {
    link.classList.toggle("active", link.dataset.screen === screen.id);
    if (link.dataset.screen === screen.id) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const root = h("div", { class: `screen-${screen.id}`, id: `screen-${screen.id}` });
  replace($("screen"), h("h2", {}, screen.title), root);
  Promise.resolve()
    .then(() => screen.render(root, { api, can, session }))
    .catch((error) => replace(root, errorBox(error)));
}

$("login-form").addEventListener("submit", login);
$("logout").addEventListener("click", () => {
  window.location.hash = "";
  showLogin("Signed out.");
});
api.whenUnauthorized(() => showLogin("The key is no longer accepted: sign in again."));
window.addEventListener("hashchange", route);
showLogin();
