// The base layer the project ships: the camera network itself, drawn as a graph on a plain canvas.
// Cameras are nodes; consecutive cameras along the same road are edges. Nothing is fetched from a tile
// server (closed networks). Coordinates are projected equirectangularly around the network's centre,
// which is exact enough over a city of ~20 km.

const PAD = 28;

export function projector(cameras, canvas) {
  const located = cameras.filter((c) => Number.isFinite(c.lat) && Number.isFinite(c.lon));
  const lat0 = located.reduce((s, c) => s + c.lat, 0) / Math.max(located.length, 1);
  const kx = Math.cos((lat0 * Math.PI) / 180);
  const xs = located.map((c) => c.lon * kx);
  const ys = located.map((c) => c.lat);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const scale = Math.min((canvas.width - 2 * PAD) / (maxX - minX || 1), (canvas.height - 2 * PAD) / (maxY - minY || 1));
  return (lat, lon) => [PAD + (lon * kx - minX) * scale, canvas.height - PAD - (lat - minY) * scale];
}

function roadEdges(cameras) {
  const byRoad = new Map();
  for (const camera of cameras) {
    if (!camera.road || !Number.isFinite(camera.lat)) continue;
    if (!byRoad.has(camera.road)) byRoad.set(camera.road, []);
    byRoad.get(camera.road).push(camera);
  }
  const edges = [];
  for (const group of byRoad.values()) {
    // Order along the road's longer extent so that neighbours are joined, not a zig-zag.
    const spanLat = Math.max(...group.map((c) => c.lat)) - Math.min(...group.map((c) => c.lat));
    const spanLon = Math.max(...group.map((c) => c.lon)) - Math.min(...group.map((c) => c.lon));
    const key = spanLat > spanLon ? "lat" : "lon";
    group.sort((a, b) => a[key] - b[key]);
    for (let i = 1; i < group.length; i++) edges.push([group[i - 1], group[i]]);
  }
  return edges;
}

export function drawNetwork(canvas, cameras, { highlight = [], path = [] } = {}) {
  const ctx = canvas.getContext("2d");
  const project = projector(cameras, canvas);
  ctx.fillStyle = "#10161d";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = "#3b4a5a";
  ctx.lineWidth = 2;
  for (const [a, b] of roadEdges(cameras)) {
    ctx.beginPath();
    ctx.moveTo(...project(a.lat, a.lon));
    ctx.lineTo(...project(b.lat, b.lon));
    ctx.stroke();
  }
  const down = new Set(cameras.filter((c) => c.health?.state === "down").map((c) => c.id));
  for (const camera of cameras) {
    if (!Number.isFinite(camera.lat)) continue;
    const [x, y] = project(camera.lat, camera.lon);
    ctx.fillStyle = down.has(camera.id) ? "#c0392b" : "#7f8c8d";
    ctx.beginPath();
    ctx.arc(x, y, 4, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = "#95a5a6";
    ctx.font = "10px sans-serif";
    ctx.fillText(camera.id, x + 6, y - 4);
  }
  if (path.length) {
    ctx.strokeStyle = "#f1c40f";
    ctx.lineWidth = 3;
    ctx.beginPath();
    path.forEach((p, i) => (i ? ctx.lineTo(...project(p.lat, p.lon)) : ctx.moveTo(...project(p.lat, p.lon))));
    ctx.stroke();
    path.forEach((p, i) => {
      const [x, y] = project(p.lat, p.lon);
      ctx.fillStyle = "#f1c40f";
      ctx.beginPath();
      ctx.arc(x, y, 7, 0, 2 * Math.PI);
      ctx.fill();
      ctx.fillStyle = "#000";
      ctx.font = "bold 10px sans-serif";
      ctx.fillText(String(i + 1), x - 3, y + 3);
    });
  }
  for (const point of highlight) {
    const [x, y] = project(point.lat, point.lon);
    ctx.strokeStyle = "#e74c3c";
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.arc(x, y, 11, 0, 2 * Math.PI);
    ctx.stroke();
  }
}
