// The page's maps: Leaflet (npm package, copied into vendor/leaflet/ by scripts/setup) with vector layers
// only — no tile server exists on a closed control-room network. Layers, bottom to top:
//   basemap  Asan-si, its 읍·면·동 and the neighbouring 시·군 (basemap/asan.geojson, generated from NGII
//            boundaries by search_api/web/make_basemap.py)
//   network  the camera network as GeoJSON: each road's cameras joined in order, one marker per camera
//            coloured by its health
//   overlay  what the view shows: alert hits, or a route (polyline in time order, numbered stops)
// When Leaflet's files are missing, each map says so and the rest of the page works as before.
import { t } from "./i18n.js";

const HEALTH_COLOUR = { up: "#2ea043", connecting: "#d29922", degraded: "#d29922", down: "#e74c3c", unknown: "#8b949e" };
const BASEMAP_STYLE = {
  city: { color: "#58a6ff", weight: 2, fill: true, fillColor: "#0f1b2a", fillOpacity: 1 },
  emd: { color: "#30465e", weight: 1, dashArray: "3 3", fill: false },
  neighbour: { color: "#2a3340", weight: 1, fill: true, fillColor: "#161b22", fillOpacity: 1 },
};

let leaflet;
let basemap;

function loadLeaflet() {
  leaflet ??= import("./vendor/leaflet/leaflet-src.esm.js").catch(() => null);
  return leaflet;
}

function loadBasemap() {
  basemap ??= fetch(new URL("./basemap/asan.geojson", import.meta.url))
    .then((response) => (response.ok ? response.json() : null))
    .catch(() => null);
  return basemap;
}

// Tooltips get text nodes, never HTML: plates and names are data.
function label(text) {
  const span = document.createElement("span");
  span.textContent = text;
  return span;
}

function located(item) {
  return item && Number.isFinite(item.lat) && Number.isFinite(item.lon);
}

// Consecutive cameras along the same road, ordered along the road's longer extent (not a zig-zag).
export function networkGeoJSON(cameras) {
  const byRoad = new Map();
  for (const camera of cameras.filter(located)) {
    if (!camera.road) continue;
    if (!byRoad.has(camera.road)) byRoad.set(camera.road, []);
    byRoad.get(camera.road).push(camera);
  }
  const features = [];
  for (const [road, group] of byRoad) {
    if (group.length < 2) continue;
    const span = (key) => Math.max(...group.map((c) => c[key])) - Math.min(...group.map((c) => c[key]));
    const key = span("lat") > span("lon") ? "lat" : "lon";
    group.sort((a, b) => a[key] - b[key]);
    features.push({
      type: "Feature",
      properties: { kind: "road", road },
      geometry: { type: "LineString", coordinates: group.map((c) => [c.lon, c.lat]) },
    });
  }
  for (const camera of cameras.filter(located)) {
    features.push({
      type: "Feature",
      properties: { kind: "camera", id: camera.id, name: camera.name ?? "", state: camera.health?.state ?? "unknown" },
      geometry: { type: "Point", coordinates: [camera.lon, camera.lat] },
    });
  }
  return { type: "FeatureCollection", features };
}

class ControlMap {
  constructor(L, element) {
    this.L = L;
    this.element = element;
    this.map = L.map(element, {
      zoomAnimation: false,
      fadeAnimation: false,
      markerZoomAnimation: false,
      minZoom: 9,
      maxZoom: 18,
    });
    this.map.attributionControl.setPrefix("Leaflet");
    this.map.setView([36.79, 127.0], 12);
    this.network = L.layerGroup().addTo(this.map);
    this.overlay = L.layerGroup().addTo(this.map);
    this.stops = [];
    this.hits = new Map();
    this.cameras = new Map();
    this.pending = null;
    this.map.on("moveend", () => {
      const centre = this.map.getCenter();
      element.dataset.center = `${centre.lat.toFixed(5)},${centre.lng.toFixed(5)}`;
      element.dataset.zoom = String(this.map.getZoom());
    });
    loadBasemap().then((data) => {
      if (!data) return;
      const layer = L.geoJSON(data, { style: (f) => BASEMAP_STYLE[f.properties.kind], interactive: false });
      layer.addTo(this.map).bringToBack();
      this.map.attributionControl.addAttribution(data.attribution);
      element.dataset.basemap = String(data.features.length);
    });
  }

  // Leaflet measures its container: a map built in a hidden view is sized when the view is shown.
  refresh() {
    this.map.invalidateSize({ pan: false });
    if (this.pending && this.element.offsetWidth) {
      this.map.fitBounds(this.pending, { padding: [24, 24], maxZoom: 15, animate: false });
      this.pending = null;
    }
  }

  fit(latlngs) {
    if (!latlngs.length) return;
    this.pending = this.L.latLngBounds(latlngs);
    this.refresh();
  }

  setCameras(cameras) {
    const L = this.L;
    const first = !this.network.getLayers().length;
    this.network.clearLayers();
    this.cameras.clear();
    L.geoJSON(networkGeoJSON(cameras), {
      // L.geoJSON applies `style` to every layer, markers included: roads only, or markers lose their class.
      style: (f) => (f.properties.kind === "road" ? { color: "#6e7681", weight: 3, opacity: 0.9, className: "road" } : {}),
      pointToLayer: (feature, latlng) => {
        const { id, name, state } = feature.properties;
        const colour = HEALTH_COLOUR[state] ?? HEALTH_COLOUR.unknown;
        const marker = L.circleMarker(latlng, {
          radius: 6, color: "#0d1117", weight: 1, fillColor: colour, fillOpacity: 1,
          className: `camera-marker camera-${id} state-${state}`,
        }).bindTooltip(label(`${id} ${name} · ${t(state)}`));
        this.cameras.set(id, marker);
        return marker;
      },
    }).addTo(this.network);
    if (first && !this.stops.length && !this.hits.size) this.fit(cameras.filter(located).map((c) => [c.lat, c.lon]));
  }

  showAlerts(alerts, position) {
    const L = this.L;
    this.overlay.clearLayers();
    this.hits.clear();
    for (const alert of alerts) {
      const point = position(alert);
      if (!located(point)) continue;
      const marker = L.circleMarker([point.lat, point.lon], {
        radius: 13, color: alert.acknowledged ? "#2ea043" : "#e74c3c", weight: 3, fill: false,
        className: `alert-hit ${alert.acknowledged ? "acked" : "open"}`,
      }).bindTooltip(label(`${alert.plate ?? alert.zone} · ${alert.camera_id}`));
      marker.addTo(this.overlay);
      this.hits.set(alert.alert_id, marker);
    }
  }

  focusCamera(cameraId) {
    this.focusMarker(this.cameras.get(cameraId));
  }

  focusAlert(alertId) {
    this.focusMarker(this.hits.get(alertId));
  }

  focusMarker(marker) {
    if (!marker) return;
    this.map.setView(marker.getLatLng(), Math.max(this.map.getZoom(), 15), { animate: false });
    marker.openTooltip();
  }

  showRoute(sightings) {
    const L = this.L;
    this.overlay.clearLayers();
    const points = sightings.filter(located);
    const latlngs = points.map((s) => [s.lat, s.lon]);
    if (latlngs.length > 1) {
      L.polyline(latlngs, { color: "#f1c40f", weight: 4, className: "route-line" }).addTo(this.overlay);
    }
    this.stops = points.map((s, i) =>
      L.marker([s.lat, s.lon], {
        icon: L.divIcon({ className: "route-stop", html: `<span>${i + 1}</span>`, iconSize: [22, 22] }),
        title: `${i + 1}. ${s.camera_id}`,
        keyboard: false,
      })
        .bindTooltip(label(`${i + 1}. ${s.camera_id} ${s.camera_name ?? ""}`))
        .addTo(this.overlay),
    );
    this.fit(latlngs);
  }

  focusStop(index) {
    const marker = this.stops[index];
    if (!marker) return;
    this.stops.forEach((m, i) => m.getElement()?.classList.toggle("selected", i === index));
    this.map.setView(marker.getLatLng(), Math.max(this.map.getZoom(), 15), { animate: false });
    marker.openTooltip();
  }
}

// A map in `element`, or null (with a visible notice in its place) when Leaflet cannot be loaded.
export async function createMap(element) {
  const L = await loadLeaflet();
  if (!L) {
    element.classList.add("map-unavailable");
    const notice = document.createElement("p");
    notice.dataset.i18n = "map_unavailable";
    notice.textContent = t("map_unavailable");
    element.replaceChildren(notice);
    return null;
  }
  return new ControlMap(L, element);
}
