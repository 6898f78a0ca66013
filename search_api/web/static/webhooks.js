// Webhook subscriptions on the administrators' alert-delivery view (issue 21): list, subscribe
// a URL with its secret and filters, pause/resume, remove. The secret is write-only: the API
// answers only whether one is set, so the page never shows it.
import { api, apiJson } from "./api.js";
import { t } from "./i18n.js";

const PRIORITIES = ["low", "medium", "high"];

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function button(className, label, onclick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.textContent = label;
  b.onclick = onclick;
  return b;
}

function webhookRow(hook, reload, fail) {
  const row = document.createElement("tr");
  row.dataset.webhookId = hook.id;
  row.className = hook.active ? "active" : "paused";
  const act = async (request) => {
    try {
      await request();
      await reload();
    } catch (error) {
      fail(error);
    }
  };
  const path = `/webhooks/${encodeURIComponent(hook.id)}`;
  const toggle = button("toggle", t(hook.active ? "webhook_pause" : "webhook_resume"), () =>
    act(() => api(path, { method: "PATCH", body: { active: !hook.active } })),
  );
  const remove = button("remove", t("webhook_remove"), () => act(() => api(path, { method: "DELETE" })));
  const actions = document.createElement("td");
  actions.append(toggle, remove);
  row.append(
    cell(hook.url),
    cell(hook.priorities?.length ? hook.priorities.map((p) => t(`priority_${p}`)).join(", ") : t("webhook_all")),
    cell(hook.cameras?.length ? hook.cameras.join(", ") : t("webhook_all")),
    cell(hook.description ?? ""),
    cell(t(hook.active ? "webhook_active" : "webhook_paused")),
    actions,
  );
  return row;
}

export async function loadWebhooks(fail) {
  const { webhooks } = await apiJson("/webhooks");
  const reload = () => loadWebhooks(fail);
  document.querySelector("#webhooks tbody").replaceChildren(...webhooks.map((h) => webhookRow(h, reload, fail)));
}

// Comma- or space-separated camera ids; empty means every camera.
function listOf(text) {
  return text.split(/[\s,]+/).filter(Boolean);
}

export function wireWebhookForm(fail, showMessage) {
  const form = document.querySelector("#webhook-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = {
      url: data.get("url").trim(),
      secret: data.get("secret"),
      priorities: PRIORITIES.filter((p) => data.getAll("priorities").includes(p)),
      cameras: listOf(data.get("cameras")),
      description: data.get("description").trim(),
    };
    try {
      await api("/webhooks", { method: "POST", body });
      form.reset();
      showMessage(t("webhook_added"), "info");
      await loadWebhooks(fail);
    } catch (error) {
      fail(error);
    }
  });
}
