// People analytics view (issue 23): per camera the live people count, each zone's crowd-density
// level (관심/주의/경계/심각) and the zone outlines; for operators the people events with their
// snapshot (the frame with the zone drawn; each view is audited) and acknowledgement. People events
// also reach the live alert board through the same stream as plate hits (peopleAlertItem).
import { apiJson, apiUrl, ApiError } from "./api.js";
import { t } from "./i18n.js";

const LEVELS = ["관심", "주의", "경계", "심각"];
// The SVG namespace as the HTML parser gives it (the page's files name no outside address).
const SVG = (() => {
  const probe = document.createElement("div");
  probe.innerHTML = "<svg></svg>";
  return probe.firstChild.namespaceURI;
})();
const REFRESH_MS = 2000;
let timer = null;
let context = null;

// Levels are stored in Korean (관심/주의/경계/심각, as the control centres name them); the text
// table has them by rank.
export function levelLabel(level) {
  return level ? t(`level_${LEVELS.indexOf(level)}`) : t("level_none");
}

function levelClass(level) {
  return `level level-${level ? LEVELS.indexOf(level) : "none"}`;
}

function snapshotUrl(eventId) {
  return apiUrl(`/people/events/${encodeURIComponent(eventId)}/snapshot`);
}

// A board card for a people event: snapshot (zone drawn), kind, zone, level, time, acknowledgement.
export function peopleAlertItem(alert, { acknowledge, cameraName, formatTime, focusAlert }) {
  const item = document.createElement("li");
  item.className = `alert people ${alert.acknowledged ? "acked" : "open"}`;
  item.dataset.alertId = alert.alert_id;
  item.dataset.kind = alert.kind;
  const img = document.createElement("img");
  img.className = "snapshot";
  img.alt = "";
  img.loading = "lazy";
  img.src = snapshotUrl(alert.alert_id);
  img.onerror = () => img.classList.add("missing");
  const text = document.createElement("div");
  text.innerHTML = "<span class=kind></span> <span class=level></span><br><span class=where></span> · <time></time><br><span class=why></span>";
  text.querySelector(".kind").textContent = t(`kind_${alert.kind}`);
  const level = text.querySelector(".level");
  level.hidden = !alert.level; // intrusion and loitering have no density level
  if (alert.level) {
    level.textContent = levelLabel(alert.level);
    level.className = levelClass(alert.level);
  }
  const where = text.querySelector(".where");
  where.textContent = `${cameraName(alert.camera_id)} · ${t("zone")} ${alert.zone}`;
  if (focusAlert) where.onclick = () => focusAlert(alert.alert_id);
  text.querySelector("time").textContent = formatTime(alert.event_at ?? alert.created_at);
  const why = [];
  if (alert.count !== undefined) why.push(t("people_count", { n: alert.count }));
  if (alert.density !== undefined) why.push(t("people_density", { d: alert.density }));
  text.querySelector(".why").textContent = why.join(" · ");
  item.append(img, text);
  if (alert.acknowledged) {
    const done = document.createElement("span");
    done.className = "acked-by";
    done.textContent = `${t("acknowledged")}: ${alert.acknowledged_by ?? ""} ${alert.ack_note ?? ""}`;
    item.append(done);
  } else {
    const button = document.createElement("button");
    button.className = "ack";
    button.textContent = t("ack");
    button.onclick = async () => {
      await acknowledge(alert);
      if (timer !== null) refresh();
    };
    item.append(button);
  }
  return item;
}

// The zone outlines in the camera's pixels, over the camera's latest event snapshot when the
// user may see snapshots (operators), else on their own.
function zoneOutlines(camera, snapshotOf) {
  const [width, height] = camera.frame ?? [640, 480];
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.classList.add("zones");
  if (snapshotOf) {
    const image = document.createElementNS(SVG, "image");
    image.setAttribute("href", snapshotUrl(snapshotOf));
    image.setAttribute("width", width);
    image.setAttribute("height", height);
    svg.append(image);
  }
  for (const zone of camera.zones ?? []) {
    const polygon = document.createElementNS(SVG, "polygon");
    polygon.setAttribute("points", zone.polygon.map(([x, y]) => `${x},${y}`).join(" "));
    polygon.setAttribute("class", `zone ${levelClass(camera.levels?.[zone.name]).replace("level ", "")}`);
    polygon.dataset.zone = zone.name;
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${zone.name}: ${(zone.rules ?? []).map((r) => t(`kind_${r}`)).join(", ")}`;
    polygon.append(title);
    svg.append(polygon);
  }
  return svg;
}

function cameraCard(camera, latestEvent) {
  const card = document.createElement("div");
  card.className = `people-camera${camera.stale ? " stale" : ""}`;
  card.dataset.camera = camera.camera_id;
  const head = document.createElement("div");
  head.innerHTML = "<b></b> <span class=name></span><br><span class=count></span> <span class=state></span>";
  head.querySelector("b").textContent = camera.camera_id;
  head.querySelector(".name").textContent = context.cameraName(camera.camera_id).replace(camera.camera_id, "").trim();
  head.querySelector(".count").textContent = t("people_count", { n: camera.count });
  head.querySelector(".state").textContent = camera.stale ? t("people_stale") : "";
  const levels = document.createElement("ul");
  levels.className = "levels";
  for (const [zone, level] of Object.entries(camera.levels ?? {})) {
    const row = document.createElement("li");
    row.dataset.zone = zone;
    row.innerHTML = "<span class=zone-name></span> <span></span>";
    row.querySelector(".zone-name").textContent = zone;
    row.lastChild.textContent = levelLabel(level);
    row.lastChild.className = levelClass(level);
    levels.append(row);
  }
  card.append(head, levels, zoneOutlines(camera, latestEvent?.alert_id));
  return card;
}

async function refresh() {
  if (!context) return;
  try {
    const operator = context.role === "operator";
    const [{ cameras }, events] = await Promise.all([
      apiJson("/people/status"),
      operator ? apiJson("/people/events", { params: { size: 30 } }).then((r) => r.events) : Promise.resolve([]),
    ]);
    const latest = new Map();
    for (const event of events) if (!latest.has(event.camera_id)) latest.set(event.camera_id, event);
    const grid = document.querySelector("#people-grid");
    grid.replaceChildren(...cameras.map((camera) => cameraCard(camera, latest.get(camera.camera_id))));
    document.querySelector("#people-summary").textContent = cameras.length ? "" : t("people_none");
    const list = document.querySelector("#people-events");
    list.replaceChildren(...events.map((event) => peopleAlertItem(event, context)));
    document.querySelector("#people-events-title").hidden = !operator;
    document.querySelector("#people-no-events").hidden = !operator || events.length > 0;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) closePeople();
    context?.fail(error);
  }
}

// `ctx`: { role, cameraName, formatTime, acknowledge, fail } from the page.
export function openPeople(ctx) {
  context = ctx;
  closePeople();
  refresh();
  timer = setInterval(refresh, REFRESH_MS);
}

export function closePeople() {
  if (timer !== null) clearInterval(timer);
  timer = null;
}
