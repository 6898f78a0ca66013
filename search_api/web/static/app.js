// Control-room page: login, live alert board (SSE), search, route, camera health, exports.
// Every failure ends as a visible message; a 401 from any call means the session is gone → login view.
import { api, apiJson, apiUrl, ApiError } from "./api.js";
import { applyTranslations, currentLanguage, setLanguage, t } from "./i18n.js";
import { createMap } from "./map.js";
import { closePeople, openPeople, peopleAlertItem } from "./people.js";
import { loadWebhooks, wireWebhookForm } from "./webhooks.js";

const $ = (selector) => document.querySelector(selector);
const state = { cameras: [], cameraById: new Map(), stream: null, alerts: [], user: null };
// Leaflet maps per view (null where the map library is unavailable); made once the page loads.
const maps = { alerts: null, route: null, cameras: null };
// What each role may open: mirrors search_api/roles.py, so nobody is shown a view that answers 403.
const VIEWS = {
  operator: ["alerts", "people", "cameras"],
  investigator: ["search", "route", "review", "cameras"],
  analyst: ["search", "route", "cameras"],
  admin: ["deliveries", "people", "cameras"],
};
const EXPORTERS = new Set(["analyst"]);

function showMessage(text, kind = "error") {
  const box = $("#message");
  box.textContent = text;
  box.className = kind;
  box.hidden = !text;
}

function explain(error) {
  if (!(error instanceof ApiError)) return String(error);
  if (error.status === 0) return t("unavailable");
  if (error.status === 403) return t("forbidden");
  if (error.status === 429) return t("rate_limited");
  if (error.status === 422 || error.status === 400) {
    const fields = (error.details?.errors ?? error.details?.fields ?? []).map((f) => `${f.field ?? f.loc}: ${f.reason ?? f.msg}`);
    return `${t("invalid")}: ${fields.join("; ") || error.message}`;
  }
  if (error.status >= 500) return `${t("unavailable")} (${error.status})`;
  return error.message;
}

// One place decides what an error means for the user.
function fail(error) {
  if (error instanceof ApiError && error.status === 401 && state.user) {
    logout(t("expired"));
    return;
  }
  showMessage(explain(error));
}

function show(view) {
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${view}`;
  for (const button of document.querySelectorAll("#nav [data-view]")) button.classList.toggle("active", button.dataset.view === view);
  if (view === "people") openPeople(peopleContext());
  else closePeople();
  if (view === "cameras") loadCameras().catch(fail);
  if (view === "deliveries") {
    loadDeliveries().catch(fail);
    loadWebhooks(fail).catch(fail);
  }
  if (view === "alerts") drawAlertMap();
  maps[view]?.refresh();
}

// The session cookie is HttpOnly: only the server can clear it.
async function endSession() {
  try {
    await api("/auth/logout", { method: "POST" });
    logout("");
  } catch (error) {
    logout(error instanceof ApiError && error.status === 0 ? t("logout_failed") : explain(error));
  }
}

function logout(message) {
  state.user = null;
  closePeople();
  state.stream?.close();
  state.stream = null;
  $("#nav").hidden = true;
  $("#who").textContent = "";
  show("login");
  if (message) showMessage(message);
}

async function login(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    await apiJson("/auth/login", { method: "POST", body: { username: form.get("username"), password: form.get("password") } });
  } catch (error) {
    showMessage(error instanceof ApiError && error.status === 401 ? t("bad_login") : explain(error));
    return;
  }
  event.target.reset();
  await start();
}

async function start() {
  const me = await apiJson("/auth/me");
  state.user = me;
  showMessage("");
  $("#who").textContent = `${me.username} (${me.role})`;
  const views = VIEWS[me.role] ?? ["cameras"];
  for (const button of document.querySelectorAll("#nav [data-view]")) button.hidden = !views.includes(button.dataset.view);
  $(".exports").hidden = !EXPORTERS.has(me.role);
  $("#nav").hidden = false;
  await loadCameras().catch(fail);
  show(views[0]);
  if (views.includes("alerts")) {
    await loadAlerts().catch(fail);
    openStream();
  }
}

// ---- cameras -------------------------------------------------------------------------------
async function loadCameras() {
  const { cameras } = await apiJson("/cameras");
  state.cameras = cameras;
  state.cameraById = new Map(cameras.map((c) => [c.id, c]));
  for (const map of Object.values(maps)) map?.setCameras(cameras);
  const grid = $("#camera-grid");
  grid.replaceChildren(
    ...cameras.map((camera) => {
      const health = camera.health ?? {};
      const status = health.state ?? "unknown";
      const tile = document.createElement("div");
      tile.className = `camera ${status}`;
      tile.dataset.camera = camera.id;
      tile.onclick = () => maps.cameras?.focusCamera(camera.id);
      const fps = health.fps ?? health.frames_per_s ?? health.frames_per_second;
      const last = health.last_read_at ?? health.last_read;
      tile.innerHTML = "<b></b><span class=name></span><span class=state></span><span class=fps></span><span class=last></span>";
      tile.querySelector("b").textContent = camera.id;
      tile.querySelector(".name").textContent = camera.name ?? "";
      tile.querySelector(".state").textContent = t(status);
      tile.querySelector(".fps").textContent = fps === undefined ? "" : `${Number(fps).toFixed(1)} ${t("fps")}`;
      tile.querySelector(".last").textContent = last ? `${t("last_read")} ${formatTime(last)}` : "";
      return tile;
    }),
  );
}

function cameraName(id) {
  const camera = state.cameraById.get(id);
  return camera?.name ? `${id} ${camera.name}` : id;
}

function formatTime(iso) {
  return new Date(iso).toLocaleString(currentLanguage() === "ko" ? "ko-KR" : "en-GB", { hour12: false });
}

// ---- alerts --------------------------------------------------------------------------------
async function loadAlerts() {
  const { alerts } = await apiJson("/alerts", { params: { acknowledged: "false", size: 50 } });
  state.alerts = alerts;
  renderAlerts();
}

// Investigators fetch a read's crop with their purpose; operators get the crop of a hit through
// its alert (the crop is part of the alert shown to control staff; each view is audited).
function cropImage(readId, reason, alertId) {
  const img = document.createElement("img");
  img.className = "crop";
  img.alt = "";
  img.loading = "lazy";
  img.src = alertId
    ? apiUrl(`/alerts/${encodeURIComponent(alertId)}/crop`)
    : apiUrl(`/reads/${encodeURIComponent(readId)}/crop`, reason);
  img.onerror = () => img.classList.add("missing");
  return img;
}

function frameImage(alertId) {
  const img = document.createElement("img");
  img.className = "frame";
  img.alt = t("scene_frame");
  img.title = t("scene_frame");
  img.loading = "lazy";
  img.src = apiUrl(`/alerts/${encodeURIComponent(alertId)}/frame`);
  img.onerror = () => img.classList.add("missing");
  return img;
}

function renderAlerts() {
  const list = $("#alert-list");
  list.replaceChildren(...state.alerts.map(alertItem));
  drawAlertMap();
}

// People events (issue 23) share the board: their card is people.js's.
const peopleContext = () => ({
  role: state.user?.role, cameraName, formatTime, acknowledge, fail,
  focusAlert: (id) => maps.alerts?.focusAlert(id),
});

function alertItem(alert) {
  if (alert.kind) return peopleAlertItem(alert, peopleContext());
  const item = document.createElement("li");
  item.className = `alert ${alert.acknowledged ? "acked" : "open"}`;
  item.dataset.alertId = alert.alert_id;
  item.dataset.plate = alert.plate;
  // The evidence to confirm against: the plate crop and a small frame of that pass (the vehicle
  // in its lane), both through the alert, so an operator's page load meets no 403.
  const evidence = document.createElement("div");
  evidence.className = "evidence";
  if (alert.crop_ref) evidence.append(cropImage(alert.read_id, null, alert.alert_id));
  if (alert.frame_ref) evidence.append(frameImage(alert.alert_id));
  if (evidence.childElementCount) item.append(evidence);
  const text = document.createElement("div");
  text.innerHTML = "<span class=plate></span> <span class=kind></span><br><span class=where></span> · <time></time><br><span class=why></span>";
  text.querySelector(".plate").textContent = alert.plate;
  text.querySelector(".kind").textContent = t(`match_${alert.match_kind}`);
  text.querySelector(".where").textContent = cameraName(alert.camera_id);
  text.querySelector(".where").onclick = () => maps.alerts?.focusAlert(alert.alert_id);
  text.querySelector("time").textContent = formatTime(alert.best_seen ?? alert.created_at);
  text.querySelector(".why").textContent = [alert.reason, alert.case_number].filter(Boolean).join(" · ");
  item.append(text);
  if (alert.acknowledged) {
    const done = document.createElement("span");
    done.className = "acked-by";
    done.textContent = `${t("acknowledged")}: ${alert.acknowledged_by ?? ""} ${alert.ack_note ?? ""}`;
    item.append(done);
  } else {
    const button = document.createElement("button");
    button.className = "ack";
    button.textContent = t("ack");
    button.onclick = () => acknowledge(alert);
    const wrong = document.createElement("button");
    wrong.className = "correct";
    wrong.textContent = t("wrong_read");
    wrong.onclick = () => correctRead(alert);
    item.append(wrong, button);
  }
  return item;
}

function alertPosition(alert) {
  if (alert.location) return alert.location;
  const camera = state.cameraById.get(alert.camera_id);
  return camera ? { lat: camera.lat, lon: camera.lon } : null;
}

function drawAlertMap() {
  maps.alerts?.showAlerts(state.alerts, alertPosition);
}

function openStream() {
  state.stream?.close();
  const source = new EventSource(apiUrl("/alerts/stream"));
  state.stream = source;
  source.onopen = () => ($("#stream-state").textContent = t("live"));
  source.addEventListener("alert", (event) => {
    const alert = JSON.parse(event.data);
    state.alerts = [alert, ...state.alerts.filter((a) => a.alert_id !== alert.alert_id)];
    renderAlerts();
    beep();
  });
  source.onerror = async () => {
    $("#stream-state").textContent = t("reconnecting");
    // EventSource hides the status code: ask whether the session is still valid.
    try {
      await api("/auth/me");
    } catch (error) {
      source.close();
      fail(error);
      return;
    }
    // A refused stream (the server's stream slots are full: 503 with Retry-After) is closed
    // for good by EventSource; open a new one after that delay while this view still wants it.
    if (source.readyState === EventSource.CLOSED) {
      setTimeout(() => state.stream === source && openStream(), 5000);
    }
  };
}

let audio;
function beep() {
  // A short generated tone: no audio file to fetch. Browsers may block it until the first click.
  try {
    audio ??= new AudioContext();
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.4);
  } catch {
    // No audio device in this browser: the visual alert still stands.
  }
}

async function acknowledge(alert) {
  const dialog = $("#ack-dialog");
  dialog.querySelector("textarea").value = "";
  dialog.returnValue = "";
  dialog.showModal();
  await new Promise((resolve) => dialog.addEventListener("close", resolve, { once: true }));
  if (dialog.returnValue !== "ok") return;
  try {
    const ack = await apiJson(`/alerts/${encodeURIComponent(alert.alert_id)}/ack`, {
      method: "POST",
      body: { note: dialog.querySelector("textarea").value },
    });
    Object.assign(alert, ack);
    renderAlerts();
  } catch (error) {
    fail(error);
  }
}

// ---- search, route and exports -------------------------------------------------------------
function localToIso(value) {
  return value ? new Date(value).toISOString() : undefined;
}

function searchParams() {
  const form = new FormData($("#search-form"));
  const purpose = String(form.get("purpose") ?? "").trim();
  const caseNumber = String(form.get("case_number") ?? "").trim();
  if (purpose.length < 2 || caseNumber.length < 3) throw new Error(t("need_reason"));
  const cameras = String(form.get("camera") ?? "").split(",").map((c) => c.trim()).filter(Boolean);
  return {
    plate: String(form.get("plate") ?? "").trim() || undefined,
    mode: form.get("fuzzy") ? "fuzzy" : undefined,
    from: localToIso(form.get("from")),
    to: localToIso(form.get("to")),
    camera: cameras,
    purpose,
    case_number: caseNumber,
  };
}

function reasonOnly(params) {
  return { purpose: params.purpose, case_number: params.case_number };
}

async function search(event) {
  event.preventDefault();
  showMessage("");
  let params;
  try {
    params = searchParams();
  } catch (error) {
    showMessage(error.message);
    return;
  }
  try {
    const page = await apiJson("/reads", { params });
    renderResults(page, params);
  } catch (error) {
    fail(error);
  }
}

function renderResults(page, params) {
  $("#search-summary").textContent = page.hits.length ? t("results", { n: page.total }) : t("no_results");
  $("#results tbody").replaceChildren(
    ...page.hits.map((hit) => {
      const row = document.createElement("tr");
      row.dataset.readId = hit.read_id;
      const cells = [0, 1, 2, 3, 4, 5].map(() => document.createElement("td"));
      if (hit.crop_ref) cells[0].append(cropImage(hit.read_id, reasonOnly(params)));
      cells[1].textContent = hit.plate;
      cells[1].className = "plate";
      cells[2].textContent = cameraName(hit.camera_id);
      cells[3].textContent = formatTime(hit.best_seen ?? hit.seen);
      cells[4].textContent = hit.confidence === undefined ? "" : Number(hit.confidence).toFixed(2);
      const open = document.createElement("button");
      open.className = "open-route";
      open.textContent = t("open_route");
      open.onclick = () => openRoute(hit.plate, params).catch(fail);
      cells[5].append(open);
      row.append(...cells);
      return row;
    }),
  );
}

async function openRoute(plate, params) {
  const route = await apiJson(`/plates/${encodeURIComponent(plate)}/route`, {
    params: { ...reasonOnly(params), from: params.from, to: params.to },
  });
  $("#route-plate").textContent = `${route.plate} · ${t("sightings", { n: route.count })}`;
  const located = route.sightings.filter((s) => Number.isFinite(s.lat) && Number.isFinite(s.lon));
  const items = route.sightings.map((s) => {
    const item = document.createElement("li");
    const gap = s.gap_s === undefined || s.gap_s === null ? "" : ` (+${Math.round(s.gap_s / 60)}′)`;
    item.textContent = `${formatTime(s.seen)} — ${cameraName(s.camera_id)}${gap}`;
    const stop = located.indexOf(s); // the numbered marker of this sighting; -1 when it has no position
    item.dataset.stop = String(stop);
    item.onclick = () => {
      for (const other of items) other.classList.toggle("selected", other === item);
      maps.route?.focusStop(stop);
    };
    return item;
  });
  $("#timeline").replaceChildren(...items);
  show("route");
  maps.route?.showRoute(located);
}

async function exportSearch(format) {
  showMessage("");
  let params;
  try {
    params = searchParams();
  } catch (error) {
    showMessage(error.message);
    return;
  }
  try {
    const response = await api("/exports/reads", { params: { ...params, format } });
    const blob = await response.blob();
    const name = /filename="?([^";]+)"?/.exec(response.headers.get("Content-Disposition") ?? "")?.[1] ?? `reads.${format}`;
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    showMessage(`${t("exported")}: ${name}`, "info");
  } catch (error) {
    fail(error);
  }
}

// ---- read correction (operators on their alerts, investigators on any read) ------------------
async function correctRead(read) {
  const dialog = $("#correct-dialog");
  dialog.querySelector("[name=plate]").value = read.plate;
  dialog.querySelector("[name=reason]").value = "";
  dialog.returnValue = "";
  dialog.showModal();
  await new Promise((resolve) => dialog.addEventListener("close", resolve, { once: true }));
  if (dialog.returnValue !== "ok") return false;
  const plate = dialog.querySelector("[name=plate]").value.trim();
  const reason = dialog.querySelector("[name=reason]").value.trim();
  try {
    const result = await apiJson(`/reads/${encodeURIComponent(read.read_id)}/correction`, {
      method: "POST",
      body: { plate, reason },
    });
    showMessage(t("corrected", { from: result.original_plate, to: result.plate }), "info");
    return true;
  } catch (error) {
    fail(error);
    return false;
  }
}

// ---- review queue: low-confidence reads to confirm or correct (investigators) ----------------
async function loadReview(event) {
  event?.preventDefault();
  const form = new FormData($("#review-form"));
  const params = {
    purpose: form.get("purpose").trim(),
    case_number: form.get("case_number").trim(),
    max_confidence: form.get("max_confidence"),
    camera_id: String(form.get("camera_id") ?? "").split(",").map((c) => c.trim()).filter(Boolean),
  };
  if (params.purpose.length < 2 || params.case_number.length < 3) {
    showMessage(t("need_reason"));
    return;
  }
  try {
    const { reads } = await apiJson("/review", { params });
    $("#review-summary").textContent = reads.length ? t("review_count", { n: reads.length }) : t("no_results");
    $("#review tbody").replaceChildren(...reads.map((read) => reviewRow(read, reasonOnly(params))));
  } catch (error) {
    fail(error);
  }
}

function reviewRow(read, reason) {
  const row = document.createElement("tr");
  row.dataset.readId = read.read_id;
  const cells = Array.from({ length: 6 }, () => document.createElement("td"));
  if (read.crop_ref) cells[0].append(cropImage(read.read_id, reason));
  cells[1].textContent = read.plate;
  cells[2].textContent = cameraName(read.camera_id);
  cells[3].textContent = formatTime(read.best_seen);
  cells[4].textContent = Number(read.confidence).toFixed(2);
  const confirm = document.createElement("button");
  confirm.className = "confirm";
  confirm.textContent = t("confirm");
  confirm.onclick = async () => {
    try {
      await api(`/reads/${encodeURIComponent(read.read_id)}/confirm`, { method: "POST", body: {} });
      showMessage(t("confirmed", { plate: read.plate }), "info");
      row.remove();
    } catch (error) {
      fail(error);
    }
  };
  const wrong = document.createElement("button");
  wrong.className = "correct";
  wrong.textContent = t("wrong_read");
  wrong.onclick = async () => (await correctRead(read)) && row.remove();
  cells[5].append(confirm, wrong);
  row.append(...cells);
  return row;
}

// ---- alert delivery: dead letters (admin) ---------------------------------------------------
async function loadDeliveries() {
  const { deliveries, total } = await apiJson("/deliveries", { params: { state: "dead", size: 200 } });
  $("#deliveries-summary").textContent = total ? t("dead_count", { n: total }) : t("no_dead_letters");
  $("#deliveries tbody").replaceChildren(
    ...deliveries.map((delivery) => {
      const row = document.createElement("tr");
      row.dataset.deliveryId = delivery.delivery_id;
      const cells = [delivery.alert_id, delivery.target, delivery.attempts, delivery.last_error ?? "",
        delivery.updated_at ? formatTime(delivery.updated_at) : ""].map((value) => {
        const cell = document.createElement("td");
        cell.textContent = String(value);
        return cell;
      });
      const retry = document.createElement("button");
      retry.className = "retry";
      retry.textContent = t("retry");
      retry.onclick = async () => {
        try {
          await api(`/deliveries/${encodeURIComponent(delivery.delivery_id)}/retry`, { method: "POST" });
          showMessage(t("retried"), "info");
          row.remove();
        } catch (error) {
          fail(error);
        }
      };
      const actions = document.createElement("td");
      actions.append(retry);
      row.append(...cells, actions);
      return row;
    }),
  );
}

// ---- wiring --------------------------------------------------------------------------------
window.addEventListener("unhandledrejection", (event) => fail(event.reason));
window.addEventListener("error", (event) => showMessage(String(event.message)));

document.addEventListener("DOMContentLoaded", async () => {
  applyTranslations();
  $("#login-form").addEventListener("submit", login);
  $("#search-form").addEventListener("submit", search);
  $("#review-form").addEventListener("submit", loadReview);
  wireWebhookForm(fail, showMessage);
  for (const button of document.querySelectorAll("[data-export]")) button.onclick = () => exportSearch(button.dataset.export);
  for (const button of document.querySelectorAll("#nav [data-view]")) button.onclick = () => show(button.dataset.view);
  $("#logout").onclick = () => endSession();
  $("#lang").onclick = () => {
    setLanguage(currentLanguage() === "ko" ? "en" : "ko");
    if (!$("#view-people").hidden) openPeople(peopleContext());
    for (const map of Object.values(maps)) map?.setCameras(state.cameras);
    renderAlerts();
    if (!$("#view-deliveries").hidden) loadWebhooks(fail).catch(fail);
  };
  const [alertMap, routeMap, cameraMap] = await Promise.all(
    ["#alert-map", "#route-map", "#camera-map"].map((selector) => createMap($(selector))),
  );
  Object.assign(maps, { alerts: alertMap, route: routeMap, cameras: cameraMap });
  try {
    await start(); // a still-valid cookie skips the login form
  } catch (error) {
    logout(error instanceof ApiError && error.status !== 401 ? explain(error) : "");
  }
});
