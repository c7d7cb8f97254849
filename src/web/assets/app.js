// helpline's pages: one small module of our own on the browser's fetch and EventSource — no
// framework. The server renders each page's frame in the person's language; this fills it from
// /api/v1 and keeps it live from the call centre's event stream. Every text comes from the page
// (`#strings`, the server's table), every figure from the API; nothing is put in the page as HTML
// (only text nodes), so what the API says can never run as a script.

const body = document.body;
const STRINGS = JSON.parse(document.getElementById("strings")?.dataset.strings ?? "{}");
const LANG = document.documentElement.lang === "hi" ? "hi" : "en";
const LOCALE = LANG === "hi" ? "hi-IN" : "en-IN";
const ZONE = "Asia/Kolkata";
const CSRF_KEY = "helpline.csrf";
const PHONE_KEY = "helpline.supervisorPhone";

// ----- words -------------------------------------------------------------------------------------

/** The text of `key`, with `{name}`s filled from `values`. */
function t(key, values) {
  let text = STRINGS[key] ?? key;
  for (const [name, value] of Object.entries(values ?? {})) {
    text = text.replaceAll(`{${name}}`, String(value));
  }
  return text;
}

/** The text of a value the API sends, named `prefix.value` in the table (the value if none). */
function tv(prefix, value) {
  return STRINGS[`${prefix}.${value}`] ?? String(value ?? "");
}

// ----- the page ----------------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

/** An element with attributes (`text`, `class`, `on*` handlers, the rest as they are) and children. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") el.textContent = value;
    else if (name === "class") el.className = value;
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) el.append(child);
  }
  return el;
}

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "text") el.textContent = value;
    else el.setAttribute(name, String(value));
  }
  el.append(...children);
  return el;
}

/** Shows `text` in a status line for a few seconds. */
function say(el, text) {
  el.textContent = text;
  clearTimeout(el.sayTimer);
  el.sayTimer = setTimeout(() => { el.textContent = ""; }, 6000);
}

// ----- the API -----------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/**
 * One API request. Writes carry the session's CSRF token (kept from the login). A session that
 * ended (401, or a CSRF token lost) sends the person to the login page, unless `login` is set.
 */
async function api(method, path, payload, { login = false } = {}) {
  const headers = { Accept: "application/json" };
  if (payload !== undefined) headers["Content-Type"] = "application/json";
  const csrf = localStorage.getItem(CSRF_KEY);
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: payload === undefined ? undefined : JSON.stringify(payload),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network", "");
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (response.ok) return data;
  const error = new ApiError(
    response.status,
    data?.error?.code ?? "",
    data?.error?.message ?? "",
    Number(response.headers.get("Retry-After")) || 0,
  );
  if (!login && (response.status === 401 || error.code === "csrf")) toLogin();
  throw error;
}

function toLogin() {
  localStorage.removeItem(CSRF_KEY);
  location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
}

/** Puts what went wrong in `el`: our words, then the server's own (in English) after them. */
function showError(el, error) {
  const ours = {
    0: "error.network",
    401: "error.session",
    403: "error.forbidden",
    409: "error.conflict",
    422: "error.invalid",
    429: "error.rate",
    503: "error.unavailable",
  }[error?.status];
  const text = ours ? t(ours) : t("error.generic", { status: error?.status ?? "?" });
  el.replaceChildren(h("span", { text }));
  if (error?.message) el.append(" ", h("span", { lang: "en", text: error.message }));
}

/** Runs `work` with `button` disabled meanwhile; a failure is shown in `errors`. */
async function act(button, errors, work) {
  if (button) button.disabled = true;
  errors.textContent = "";
  try {
    return await work();
  } catch (error) {
    showError(errors, error);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/** Asks the person to confirm in the page's dialog (with `extra` controls); true on "confirm". */
function ask(text, extra) {
  const dialog = $("confirm");
  $("confirm-text").textContent = text;
  $("confirm-extra").replaceChildren(...(extra ? [extra] : []));
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
}

// ----- time --------------------------------------------------------------------------------------

/** Server time minus ours, from the last snapshot: timers count from the server's clock. */
let skew = 0;
const now = () => Date.now() + skew;

function duration(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

const timeFormat = new Intl.DateTimeFormat(LOCALE, { timeZone: ZONE, hour: "2-digit", minute: "2-digit" });
const dateFormat = new Intl.DateTimeFormat(LOCALE, { timeZone: ZONE, day: "numeric", month: "short", year: "numeric" });
const clock = (iso) => (iso ? timeFormat.format(new Date(iso)) : "");
const day = (iso) => (iso ? dateFormat.format(new Date(iso)) : "");

/** An element whose text counts up from `since` (an ISO instant), every second. */
function since(iso, tag = "span") {
  const el = h(tag, { class: "timer", "data-since": iso ?? "" });
  tickOne(el);
  return el;
}

function tickOne(el) {
  const from = Date.parse(el.dataset.since);
  el.textContent = Number.isNaN(from) ? "" : duration((now() - from) / 1000);
}

// Display only: the figures themselves come from the stream.
setInterval(() => document.querySelectorAll("[data-since]").forEach(tickOne), 1000);

// ----- the live stream ---------------------------------------------------------------------------

/**
 * The call centre's stream: `snapshot` first (and again after any gap: a reconnection or a
 * reader that fell behind), then `agent` and `queue` events. The browser reconnects by itself
 * after a dropped connection; when the server refuses one (restarting, 503) the stream is closed
 * for good, so it is opened again here, after checking the session still holds.
 */
function live(handlers) {
  const record = timings();
  const badge = $("live");
  let retry = 1000;
  const show = (state) => {
    badge.dataset.live = state;
    badge.textContent = t({ on: "live.on", off: "live.reconnecting" }[state] ?? "live.connecting");
  };
  const open = () => {
    show("connecting");
    const stream = new EventSource("/api/v1/centre/events");
    const on = (kind, listener) => stream.addEventListener(kind, record === null ? listener : (event) => {
      const started = performance.now();
      listener(event);
      record(kind, started);
    });
    on("snapshot", (event) => {
      retry = 1000;
      show("on");
      const snapshot = JSON.parse(event.data);
      skew = Date.parse(snapshot.at) - Date.now();
      handlers.snapshot(snapshot);
    });
    on("agent", (event) => {
      const view = JSON.parse(event.data);
      // A change just now, on the call centre's clock (which a simulator runs faster).
      skew = Date.parse(view.since) - Date.now();
      handlers.agent(view);
    });
    on("queue", (event) => handlers.queue(JSON.parse(event.data)));
    on("ivr", (event) => handlers.ivr?.(JSON.parse(event.data)));
    stream.addEventListener("error", () => {
      show("off");
      if (stream.readyState !== EventSource.CLOSED) return;
      stream.close();
      setTimeout(async () => {
        try {
          await api("GET", "/me");
        } catch (error) {
          if (error.status === 401) return; // on its way to the login page
        }
        open();
      }, retry);
      retry = Math.min(retry * 2, 15000);
    });
  };
  open();
}

/**
 * With `?timings` in the page's address (`helpline bench board --browser`), each stream event's
 * handling is timed — the handler, then the style and layout it caused (forced by reading a
 * size) — into `window.__helplineTimings` (the last 100,000: `{kind, ms}`). Without it the
 * listeners are left as they are. The wallboard's re-reads of the floor are timed too (`refresh`).
 */
function timings() {
  if (!new URLSearchParams(location.search).has("timings")) return null;
  const timings = (window.__helplineTimings = []);
  const record = (kind, started) => {
    void document.body.offsetHeight;
    if (timings.length >= 100000) timings.shift();
    timings.push({ kind, ms: performance.now() - started });
  };
  window.__helplineTimed = record;
  return record;
}

// ----- log in, log out ---------------------------------------------------------------------------

/** Where to go after logging in: the page that sent the person here, if it is one of ours. */
function nextPage() {
  const next = new URLSearchParams(location.search).get("next") ?? "";
  return /^\/[a-z]*$/.test(next) && next !== "/login" ? next : "/";
}

function loginPage() {
  const form = $("login-form");
  const button = $("login-submit");
  const error = $("login-error");
  let countdown = null;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const login = $("login-name").value.trim();
    const password = $("login-password").value;
    if (!login || !password) {
      error.textContent = t("login.missing");
      return;
    }
    button.disabled = true;
    error.textContent = "";
    try {
      const session = await api("POST", "/login", { login, password }, { login: true });
      localStorage.setItem(CSRF_KEY, session.csrf_token);
      location.assign(nextPage());
    } catch (failure) {
      if (failure.status === 429) {
        // Throttled: say for how long, and keep the button off until then.
        let left = failure.retryAfter || 60;
        const tick = () => {
          error.textContent = t("login.throttled", { seconds: left });
          if (left-- <= 0) {
            clearInterval(countdown);
            error.textContent = "";
            button.disabled = false;
          }
        };
        clearInterval(countdown);
        tick();
        countdown = setInterval(tick, 1000);
        return;
      }
      if (failure.status === 401) error.textContent = t("login.wrong");
      else showError(error, failure);
      button.disabled = false;
      $("login-password").select();
    }
  });
}

function logoutButton() {
  $("logout")?.addEventListener("click", async () => {
    try {
      await api("POST", "/logout", undefined, { login: true });
    } catch {
      // Gone already, or the server is away: the page forgets the session all the same.
    }
    localStorage.removeItem(CSRF_KEY);
    location.assign("/login");
  });
}

// ----- departments -------------------------------------------------------------------------------

let departments = new Map();

async function loadDepartments() {
  try {
    const list = await api("GET", "/departments");
    departments = new Map(list.map((d) => [d.code, d]));
  } catch {
    departments = new Map();
  }
  return departments;
}

const departmentName = (code) => {
  const d = departments.get(code);
  if (!d) return code ?? "";
  return LANG === "hi" && d.name_hi ? d.name_hi : d.name;
};

// ----- the agent desk ----------------------------------------------------------------------------

const OPEN = new Set(["registered", "assigned", "in_progress", "reopened"]);
const BUSY = new Set(["ringing", "on_call", "wrap_up"]);
/** Queue events that make or end a call-back slot (any: a new slot; the others: one of the list's). */
const SLOT_BOOKED = "CALLBACK_ACCEPTED";
const SLOT_ENDS = new Set(["CALLBACK_FAILED", "CONNECT", "MOVED"]);
/** Why a citizen is not satisfied (the API's `reason_code`). */
const FEEDBACK_REASONS = ["not_resolved", "partially_resolved", "too_slow", "officer_behaviour", "wrong_department", "other"];

function deskPage() {
  const me = body.dataset.login;
  const errors = $("desk-error");
  const messages = $("desk-message");
  /** My agent view, from the stream. */
  let agent = null;
  /** Calls in the centre by id (the last snapshot's). */
  let calls = new Map();
  /** The call on my screen: its id, view, phase, hold, the complaints I filed in it. */
  let current = null;

  loadDepartments().then(() => {
    $("file-department").replaceChildren(
      ...[...departments.values()].map((d) => h("option", { value: d.code, text: departmentName(d.code) })),
    );
    if (current) showCall();
  });

  live({
    snapshot(snapshot) {
      calls = new Map(snapshot.calls.map((c) => [c.call, c]));
      queueDestinations(snapshot.queues.map((q) => q.name));
      agent = snapshot.agents.find((a) => a.agent === me) ?? null;
      showAgent();
      follow();
      loadCallbacks();
    },
    agent(view) {
      if (view.agent !== me) return;
      const was = agent?.state;
      agent = view;
      showAgent();
      follow();
      // A call ended or began (maybe one of the list's), or the agent came in: read the list again.
      if (was !== view.state) loadCallbacks();
      else showCallbacks();
    },
    queue(event) {
      // The desk follows its agent's own events, and the call-back slots' comings and goings.
      const listed = SLOT_ENDS.has(event.event)
        && callbacks.some((c) => c.kind === "hold" && c.id === event.call_id);
      if (event.event === SLOT_BOOKED || listed) loadCallbacksSoon();
    },
  });

  function queueDestinations(names) {
    const select = $("transfer-to");
    select.querySelectorAll("option[data-queue]").forEach((o) => o.remove());
    const officer = select.querySelector('option[value="phone"]');
    for (const name of names) {
      select.insertBefore(
        h("option", { value: `queue:${name}`, "data-queue": name, text: t("transfer.queue", { name }) }),
        officer,
      );
    }
  }

  function showAgent() {
    const state = agent?.state ?? "logged_out";
    const label = $("my-state");
    label.dataset.state = state;
    label.textContent = tv("state", state) + (agent?.reason ? ` · ${tv("reason", agent.reason)}` : "");
    $("my-since").dataset.since = state === "logged_out" ? "" : agent?.since ?? "";
    tickOne($("my-since"));
    $("centre-login").hidden = state !== "logged_out";
    $("state-actions").hidden = state === "logged_out";
    $("btn-available").disabled = state !== "paused";
    $("btn-pause").disabled = state === "paused";
    $("wrapup-form").hidden = state !== "wrap_up";
    $("pop-idle").textContent = state === "logged_out" ? t("desk.not_in") : t("desk.waiting");
  }

  /** Pops the call my state names, keeps it through wrap-up, and clears it after. */
  function follow() {
    const phase = agent && BUSY.has(agent.state) ? agent.state : null;
    const id = phase ? agent.call : null;
    if (!id) {
      current = null;
      $("pop").dataset.phase = "";
      $("pop-title").textContent = t("pop.on_call");
      $("pop-call").hidden = true;
      $("pop-idle").hidden = false;
      return;
    }
    if (current?.id === id) {
      current.phase = phase;
      showPhase();
      return;
    }
    current = { id, phase, view: calls.get(id) ?? null, held: false, filed: [] };
    showPhase();
    showCall();
    if (current.view) {
      loadHistory();
    } else {
      // A call that joined after the last snapshot: ask for the picture now.
      const wanted = current;
      api("GET", "/centre").then((snapshot) => {
        calls = new Map(snapshot.calls.map((c) => [c.call, c]));
        if (current !== wanted) return;
        current.view = calls.get(id) ?? null;
        showCall();
        loadHistory();
      }, (error) => showError(errors, error));
    }
  }

  function showPhase() {
    const pop = $("pop");
    pop.dataset.phase = current.phase;
    $("pop-title").textContent = t({ ringing: "pop.ringing", wrap_up: "pop.wrap_up" }[current.phase] ?? "pop.on_call");
    $("pop-idle").hidden = true;
    $("pop-call").hidden = false;
    const talking = current.phase === "on_call";
    for (const control of $("call-actions").querySelectorAll("button, select, input")) {
      control.disabled = !talking;
    }
    $("file-form").hidden = current.phase === "ringing";
  }

  const callerOf = (view) => (view && view.caller !== "unknown" ? view.caller : null);

  function showCall() {
    const view = current?.view;
    $("pop-caller").textContent = callerOf(view) ?? t("pop.withheld");
    $("pop-language").textContent = view ? tv("lang", view.language) : "";
    $("pop-department").textContent = view?.department ? departmentName(view.department) : t("none");
    $("pop-queue").textContent = view?.queue ?? "";
    $("pop-joined").textContent = clock(view?.joined_at);
    const numbers = (list) => (list.length ? list.join(", ") : t("none"));
    $("pop-complaints").textContent = numbers(view?.complaints ?? []);
    // Filed in this call: by the IVR before the caller reached me, then by me.
    const filed = [...new Set([...(view?.filed ?? []), ...(current?.filed ?? [])])];
    $("pop-filed").textContent = numbers(filed);
    showPath(view?.path ?? []);
    const department = $("file-department");
    if (view?.department && departments.has(view.department) && !current.departmentSet) {
      department.value = view.department;
      current.departmentSet = true;
    }
    const hold = $("btn-hold");
    hold.setAttribute("aria-pressed", String(Boolean(current?.held)));
    hold.textContent = current?.held ? t("hold.off") : t("hold.on");
  }

  /** The IVR's path: each step (in this page's words when the table has them) and the keys pressed. */
  function showPath(path) {
    const el = $("pop-path");
    if (!path.length) {
      el.textContent = t("pop.path_none");
      return;
    }
    el.replaceChildren(...path.flatMap((step, i) => [
      i ? " → " : "",
      h("span", { class: "step", text: tv("step", step.step) }),
      ...(step.keys ? [" ", h("span", { class: "key", text: `[${step.keys}]` })] : []),
    ]));
  }

  /** The caller's complaints, newest first: status, department, due date, the last note, the recording. */
  async function loadHistory() {
    const wanted = current;
    const tbody = $("history").tBodies[0];
    const number = callerOf(current?.view);
    if (!number || number.includes("*")) {
      tbody.replaceChildren();
      $("history").hidden = true;
      $("history-summary").textContent = t("pop.history_none");
      return;
    }
    let page;
    try {
      page = await api("GET", `/tickets?caller=${encodeURIComponent(number)}&limit=20`);
    } catch (error) {
      showError(errors, error);
      return;
    }
    if (current !== wanted) return;
    const open = page.items.filter((ticket) => OPEN.has(ticket.status)).length;
    $("history-summary").textContent = page.total
      ? t("pop.history_count", { open, total: page.total })
      : t("pop.history_none");
    tbody.replaceChildren(...page.items.map((ticket, i) => historyRow(ticket, i < 5)));
    $("history").hidden = page.items.length === 0;
  }

  function historyRow(ticket, withNote) {
    const note = h("td", { class: "note" });
    const row = h(
      "tr",
      { class: OPEN.has(ticket.status) ? "open" : "", "data-number": ticket.number },
      h("td", { class: "number", text: ticket.number }),
      h("td", { text: tv("status", ticket.status) }),
      h("td", { text: departmentName(ticket.department_code) || ticket.department_name }),
      h(
        "td",
        {},
        day(ticket.due_at),
        ticket.overdue ? [" ", h("span", { class: "overdue", text: t("overdue") })] : [],
      ),
      h("td", { text: (ticket.description ?? "").slice(0, 140) }),
      note,
      h(
        "td",
        {},
        ticket.recording
          ? h("audio", {
            controls: true,
            preload: "none",
            src: `/api/v1/tickets/${ticket.number}/recording`,
            "aria-label": `${t("col.recording")} ${ticket.number}`,
          })
          : "",
      ),
    );
    const button = h("button", {
      type: "button",
      class: "secondary",
      text: t("note.add"),
      "aria-label": `${t("note.add")}: ${ticket.number}`,
      onclick: () => noteForm(note, ticket.number, button),
    });
    note.append(h("div", { class: "last" }), button);
    if (withNote) lastNote(note, ticket.number);
    return row;
  }

  async function lastNote(cell, number) {
    try {
      const notes = await api("GET", `/tickets/${number}/notes?limit=200`);
      const last = notes.items?.at(-1);
      cell.querySelector(".last").textContent = last ? `${day(last.at)}: ${last.text}` : "";
    } catch {
      // The last note is a help, not a need.
    }
  }

  function noteForm(cell, number, opener) {
    opener.hidden = true;
    const id = `note-${number}`;
    const text = h("textarea", { id, rows: 2, maxlength: 4000, required: true });
    const form = h(
      "form",
      {
        onsubmit: async (event) => {
          event.preventDefault();
          if (!text.value.trim()) return;
          const saved = await act(form.querySelector("button"), errors, () =>
            api("POST", `/tickets/${number}/notes`, { text: text.value.trim() }));
          if (saved === undefined) return;
          say(messages, t("note.saved", { number }));
          form.remove();
          opener.hidden = false;
          opener.focus();
          lastNote(cell, number);
        },
      },
      h("label", { for: id, text: t("note.text", { number }) }),
      text,
      h("button", { type: "submit", text: t("note.save") }),
    );
    cell.append(form);
    text.focus();
  }

  // ----- the call-back list: virtual-hold slots, after-hours complaints, satisfaction calls ------

  /** The list's entries, as last read. */
  let callbacks = [];
  let callbacksTimer = null;
  let callbacksReading = null;

  /** Reads the list again once a burst of queue events is over. */
  function loadCallbacksSoon() {
    clearTimeout(callbacksTimer);
    callbacksTimer = setTimeout(loadCallbacks, 1000);
  }

  /** Reads the three lists (one request at a time; a request meanwhile reads again after it). */
  async function loadCallbacks() {
    if (callbacksReading) {
      callbacksReading.again = true;
      return;
    }
    const reading = { again: false };
    callbacksReading = reading;
    try {
      const [slots, late, unconfirmed] = await Promise.all([
        api("GET", "/centre/callbacks"),
        api("GET", "/tickets?callback_due=true&limit=50"),
        api("GET", "/confirmations?state=call_back&limit=50"),
      ]);
      callbacks = [
        ...slots.items.map((slot) => ({
          kind: "hold",
          id: slot.call,
          who: slot.info.number,
          language: slot.info.language,
          about: t("callbacks.place", { queue: slot.queue, position: slot.position }),
          since: slot.booked_at ?? slot.joined_at,
          calling: slot.calling,
          mine: slot.agent === me,
          taken: Boolean(slot.agent) && slot.agent !== me,
        })),
        ...late.items.map((ticket) => ({
          kind: "after_hours",
          id: ticket.number,
          who: ticket.caller_number,
          language: ticket.language,
          about: `${ticket.number} · ${departmentName(ticket.department_code) || ticket.department_name}`,
          since: ticket.created_at,
        })),
        ...unconfirmed.items.map((c) => ({
          kind: "satisfaction",
          id: c.number,
          who: c.caller_number,
          language: c.language,
          about: `${c.number} · ${departmentName(c.department_code) || c.department_name}`,
          since: c.updated_at,
        })),
      ];
      showCallbacks();
    } catch (error) {
      showError(errors, error);
    } finally {
      callbacksReading = null;
      if (reading.again) loadCallbacks();
    }
  }

  /** The agent may place a call now: available, or in wrap-up (which the call ends). */
  const canCall = () => agent?.state === "available" || agent?.state === "wrap_up";

  function showCallbacks() {
    const tbody = $("callbacks-list").tBodies[0];
    $("callbacks-summary").textContent = callbacks.length
      ? t("callbacks.count", { count: callbacks.length })
      : t("callbacks.none");
    $("callbacks-list").hidden = callbacks.length === 0;
    tbody.replaceChildren(...callbacks.map(callbackRow));
  }

  function callbackRow(entry) {
    const who = entry.who && entry.who !== "unknown" ? entry.who : t("pop.withheld");
    const actions = h("td", { class: "actions" });
    actions.append(h("button", {
      type: "button",
      class: "call",
      text: t("callbacks.call"),
      "aria-label": t("callbacks.call_label", { who }),
      disabled: !canCall() || entry.calling || entry.taken || who === t("pop.withheld"),
      onclick: (event) => callNow(event.currentTarget, entry, who),
    }));
    if (entry.kind === "after_hours") {
      actions.append(h("button", {
        type: "button",
        class: "secondary done",
        text: t("callbacks.done"),
        "aria-label": `${t("callbacks.done")}: ${entry.id}`,
        onclick: (event) => markCalledBack(event.currentTarget, entry),
      }));
    }
    if (entry.kind === "satisfaction") {
      actions.append(h("button", {
        type: "button",
        class: "secondary verdict",
        text: t("callbacks.verdict"),
        "aria-label": `${t("callbacks.verdict")}: ${entry.id}`,
        onclick: (event) => recordVerdict(event.currentTarget, entry),
      }));
    }
    return h(
      "tr",
      { "data-kind": entry.kind, "data-id": entry.id, class: entry.calling ? "calling" : "" },
      h("td", { text: t(`callbacks.kind.${entry.kind}`) }),
      h("td", { class: "number", text: who }),
      h("td", { text: tv("lang", entry.language) }),
      h("td", {}, entry.about, entry.calling ? [" · ", h("strong", { text: t("callbacks.calling") })] : []),
      h("td", { text: `${day(entry.since)} ${clock(entry.since)}` }),
      actions,
    );
  }

  async function callNow(button, entry, who) {
    const payload = entry.kind === "hold" ? { callback: entry.id } : { ticket: entry.id };
    const placed = await act(button, errors, () => api("POST", "/centre/me/call", payload));
    if (placed !== undefined) say(messages, t("callbacks.called", { who }));
  }

  /** Asks `text` in the dialog with labelled `fields` (`[label key, control]`); true on confirm. */
  function askWith(text, fields) {
    const extra = h("div", {}, ...fields.flatMap(([label, control]) => [
      h("label", { for: control.id, text: t(label) }),
      control,
    ]));
    return ask(text, extra);
  }

  /** Sends what became of a list's entry; once taken, says `said` and reads the list again. */
  async function settle(button, path, payload, said) {
    const done = await act(button, errors, () => api("POST", path, payload));
    if (done === undefined) return;
    say(messages, said);
    loadCallbacks();
  }

  async function markCalledBack(button, entry) {
    const outcomes = ["reached", "no_answer", "wrong_number"];
    const outcome = h("select", { id: "callback-outcome" },
      ...outcomes.map((o) => h("option", { value: o, text: tv("callbacks.outcome", o) })));
    const note = h("textarea", { id: "callback-note", rows: 2, maxlength: 2000 });
    const fields = [["callbacks.outcome", outcome], ["callbacks.note", note]];
    if (!(await askWith(t("callbacks.done_confirm", { number: entry.id }), fields))) return;
    const payload = { outcome: outcome.value };
    if (note.value.trim()) payload.note = note.value.trim();
    await settle(button, `/tickets/${entry.id}/called-back`, payload, t("callbacks.marked", { number: entry.id }));
  }

  async function recordVerdict(button, entry) {
    const verdict = h("select", { id: "callback-verdict" },
      h("option", { value: "yes", text: t("callbacks.satisfied") }),
      h("option", { value: "no", text: t("callbacks.not_satisfied") }));
    const reason = h("select", { id: "callback-reason" },
      ...FEEDBACK_REASONS.map((r) => h("option", { value: r, text: tv("fb", r) })));
    const fields = [["callbacks.verdict", verdict], ["callbacks.reason", reason]];
    if (!(await askWith(t("callbacks.verdict_confirm", { number: entry.id }), fields))) return;
    const satisfied = verdict.value === "yes";
    const payload = satisfied ? { satisfied } : { satisfied, reason_code: reason.value };
    await settle(button, `/tickets/${entry.id}/feedback`, payload, t("callbacks.recorded", { number: entry.id }));
  }

  // The state buttons.
  $("centre-login").addEventListener("submit", (event) => {
    event.preventDefault();
    const phone = $("phone").value.trim();
    act($("btn-centre-login"), errors, () => api("POST", "/centre/me/login", phone ? { phone } : {}));
  });
  $("btn-available").addEventListener("click", (event) =>
    act(event.currentTarget, errors, () => api("POST", "/centre/me/resume", {})));
  $("pause-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act($("btn-pause"), errors, () => api("POST", "/centre/me/pause", { reason: $("pause-reason").value }));
  });
  $("btn-centre-logout").addEventListener("click", (event) =>
    act(event.currentTarget, errors, () => api("POST", "/centre/me/logout", {})));
  $("wrapup-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act($("btn-dispose"), errors, () => api("POST", "/centre/me/disposition", { code: $("disposition").value }));
  });

  // During the call.
  $("btn-hold").addEventListener("click", async (event) => {
    if (!current) return;
    const on = !current.held;
    const done = await act(event.currentTarget, errors, () => api("POST", "/centre/me/hold", { on }));
    if (done === undefined) return;
    current.held = on;
    showCall();
    if (on) say(messages, t("hold.held"));
  });
  $("btn-hangup").addEventListener("click", async (event) => {
    if (!current) return;
    const button = event.currentTarget;
    if (!(await ask(t("hangup.confirm")))) return;
    const done = await act(button, errors, () => api("POST", "/centre/me/hangup", {}));
    // The stream brings the wrap-up.
    if (done !== undefined) say(messages, t("hangup.done"));
  });
  $("transfer-to").addEventListener("change", () => {
    const officer = $("transfer-to").value === "phone";
    $("transfer-phone").hidden = !officer;
    document.querySelector('label[for="transfer-phone"]').hidden = !officer;
    if (officer) $("transfer-phone").focus();
  });
  $("transfer-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!current) return;
    const select = $("transfer-to");
    let to = select.value;
    let label = select.selectedOptions[0]?.textContent ?? to;
    if (to === "phone") {
      const phone = $("transfer-phone").value.trim();
      if (!phone) {
        $("transfer-phone").focus();
        return;
      }
      to = `phone:${phone}`;
      label = phone;
    }
    if (!(await ask(t("transfer.confirm", { to: label })))) return;
    const done = await act($("btn-transfer"), errors, () =>
      api("POST", "/centre/me/transfer", { to, tickets: current.filed }));
    if (done !== undefined) say(messages, t("transfer.done", { to: label }));
  });
  $("file-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!current) return;
    const call = current;
    const description = $("file-description").value.trim();
    if (!description) {
      $("file-description").focus();
      return;
    }
    const view = call.view ?? {};
    const filed = await act($("btn-file"), errors, async () => {
      const ticket = await api("POST", "/tickets", {
        source: "agent",
        caller_number: callerOf(view) ?? "unknown",
        language: view.language ?? LANG,
        department_code: $("file-department").value,
        description,
        // One ticket per complaint of the call, whatever the retries.
        idempotency_key: `${call.id}-${call.filed.length + 1}`,
      });
      await api("POST", `/tickets/${ticket.number}/notes`, {
        text: `Filed by the agent on the caller's behalf during call ${call.id}${view.queue ? ` (queue ${view.queue})` : ""}.`,
      });
      return ticket;
    });
    if (filed === undefined) return;
    if (!call.filed.includes(filed.number)) call.filed.push(filed.number);
    $("file-description").value = "";
    say(messages, t("file.done", { number: filed.number }));
    if (current === call) {
      showCall();
      loadHistory();
    }
  });
}

// ----- the wallboard -----------------------------------------------------------------------------

function boardPage() {
  const errors = $("board-error");
  const messages = $("board-message");
  const phone = $("supervisor-phone");
  phone.value = localStorage.getItem(PHONE_KEY) ?? "";
  phone.addEventListener("change", () => localStorage.setItem(PHONE_KEY, phone.value.trim()));
  $("supervisor-form").addEventListener("submit", (event) => event.preventDefault());
  /** The floor as last told: the snapshot, with agents' events applied since. */
  let floor = null;
  let refresh = null;
  /** The floor's calls by id (an agent's row shows theirs): made with each picture of the floor. */
  let callsById = new Map();
  /** Callers listed at most, the longest waiting first; the queues' figures count everyone. */
  const WAITING_SHOWN = 100;

  loadDepartments().then(() => {
    if (floor) showWaiting();
    if (lastComplaints) showComplaints(lastComplaints);
  });
  /** The complaints as last read (shown again once the departments' names are in). */
  let lastComplaints = null;

  live({
    snapshot(snapshot) {
      floor = snapshot;
      showAll();
    },
    agent(view) {
      if (!floor) return;
      const i = floor.agents.findIndex((a) => a.agent === view.agent);
      if (i >= 0) {
        floor.agents[i] = view;
        showAgentRow(view);
      } else {
        floor.agents.push(view);
        showAgents();
      }
      // A call this board has not seen yet: the queue's figures will say more.
      if (view.call && !floor.calls.some((c) => c.call === view.call)) later();
    },
    queue() {
      // A join, an answer, an abandon …: the figures changed; read them once things settle.
      later();
    },
    ivr(event) {
      if (!floor) return;
      floor.in_ivr = event.in_ivr;
      showFloor();
    },
  });

  /**
   * The complaints by department and level, and today's escalations: read with the first picture
   * and again with the floor, at most once a minute (they change with the escalation job, not
   * with calls).
   */
  let complaintsRead = 0;
  async function loadComplaints(force) {
    if (!force && Date.now() - complaintsRead < 60000) return;
    complaintsRead = Date.now();
    try {
      showComplaints(await api("GET", "/centre/complaints"));
    } catch (error) {
      showError(errors, error);
    }
  }

  function showComplaints(board) {
    lastComplaints = board;
    const today = new Map(board.escalated_today.map((e) => [`${e.department}:${e.level}`, e.escalations]));
    const rows = board.levels.map((l) => ({ ...l, today: today.get(`${l.department}:${l.level}`) ?? 0 }));
    // Escalated today to a level that holds none now (closed since): still counted.
    for (const e of board.escalated_today) {
      if (!rows.some((r) => r.department === e.department && r.level === e.level)) {
        rows.push({ department: e.department, level: e.level, complaints: 0, overdue: 0, today: e.escalations });
      }
    }
    rows.sort((a, b) => a.department.localeCompare(b.department) || a.level - b.level);
    $("overdue-total").textContent = rows.reduce((n, r) => n + r.overdue, 0);
    $("escalated-total").textContent = board.escalated_today.reduce((n, e) => n + e.escalations, 0);
    $("complaints").hidden = rows.length === 0;
    $("no-complaints").hidden = rows.length > 0;
    $("complaints").tBodies[0].replaceChildren(...rows.map((r) => h(
      "tr",
      { "data-department": r.department, "data-level": r.level, class: r.overdue ? "overdue-row" : "" },
      h("th", { scope: "row", text: departmentName(r.department) }),
      h("td", { class: "num", text: `L${r.level}` }),
      h("td", { class: "num", text: r.complaints }),
      h("td", { class: `num ${r.overdue ? "below" : ""}`, text: r.overdue }),
      h("td", { class: "num escalated", text: r.today }),
    )));
  }

  function showFloor() {
    $("in-ivr").textContent = floor.in_ivr === null || floor.in_ivr === undefined ? dash : floor.in_ivr;
  }

  /** Reads the floor again soon, once for a burst of events. */
  function later() {
    if (refresh) return;
    refresh = setTimeout(async () => {
      try {
        floor = await api("GET", "/centre");
        const started = performance.now();
        skew = Date.parse(floor.at) - Date.now();
        showAll();
        window.__helplineTimed?.("refresh", started);
      } catch (error) {
        showError(errors, error);
      } finally {
        refresh = null;
      }
    }, 250);
  }

  function showAll() {
    callsById = new Map(floor.calls.map((c) => [c.call, c]));
    showFloor();
    loadComplaints(false);
    showQueues();
    showAgents();
    showWaiting();
  }

  const dash = "—";
  const atSnapshot = (secondsAgo) => new Date(Date.parse(floor.at) - secondsAgo * 1000).toISOString();

  function showQueues() {
    $("queues").tBodies[0].replaceChildren(...floor.queues.map((q) => {
      const level = q.service_level_percent;
      const below = level !== null && level !== undefined && level < q.service_level_target_percent;
      const target = t("sl.target", { percent: q.service_level_target_percent, secs: q.service_level_within_secs });
      return h(
        "tr",
        { "data-queue": q.name },
        h("th", { scope: "row", text: q.name }),
        h("td", { class: "num waiting", text: q.waiting + q.ringing }),
        h("td", { class: "num" }, q.oldest_wait_secs === null || q.oldest_wait_secs === undefined
          ? dash
          : since(atSnapshot(q.oldest_wait_secs))),
        h("td", { class: "num answered", text: q.counters.answered }),
        h("td", { class: "num abandoned", text: q.counters.abandoned }),
        h(
          "td",
          { class: `num sl ${below ? "below" : ""}`, title: target },
          level === null || level === undefined
            ? dash
            : [
              h("strong", { text: `${Math.round(level)}%` }),
              " ",
              h("span", { class: below ? "below" : "met", text: below ? `▼ ${t("sl.below")}` : t("sl.met") }),
            ],
          h("span", { class: "visually-hidden", text: `, ${target}` }),
        ),
        h("td", { class: "num", text: q.average_speed_of_answer_secs === null || q.average_speed_of_answer_secs === undefined ? dash : duration(q.average_speed_of_answer_secs) }),
        h("td", { class: "num aht", text: q.average_handle_time_secs === null || q.average_handle_time_secs === undefined ? dash : duration(q.average_handle_time_secs) }),
        h("td", { class: "num", text: q.expected_wait_secs === null || q.expected_wait_secs === undefined ? dash : duration(q.expected_wait_secs) }),
        h("td", { class: "num", text: `${q.agents_available} / ${q.agents_logged_in}` }),
      );
    }));
  }

  function showAgents() {
    const tbody = $("agents").tBodies[0];
    // Rebuilt whole, the focus kept on the control it was on.
    const focused = document.activeElement?.closest?.("#agents tr") ? document.activeElement.dataset.key : null;
    const agents = [...floor.agents].sort((a, b) => a.agent.localeCompare(b.agent));
    tbody.replaceChildren(...agents.map(agentRow));
    if (focused) tbody.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
    $("no-agents").hidden = agents.length > 0;
    showStateCounts();
  }

  /** One agent changed: their row alone is made again (300 agents, dozens of events a second). */
  function showAgentRow(view) {
    const old = $("agents").tBodies[0].querySelector(`tr[data-agent="${CSS.escape(view.agent)}"]`);
    if (!old) {
      showAgents();
      return;
    }
    const focused = old.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    const row = agentRow(view);
    old.replaceWith(row);
    if (focused) row.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
    showStateCounts();
  }

  function showStateCounts() {
    const counts = new Map();
    for (const a of floor.agents) {
      const key = a.state === "paused" ? `${tv("state", "paused")} · ${tv("reason", a.reason)}` : tv("state", a.state);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    $("by-state").replaceChildren(...[...counts].map(([label, count]) => h("li", { text: `${label}: ${count}` })));
  }

  function agentRow(a) {
    const call = a.call ? callsById.get(a.call) : null;
    const button = (mode, label, enabled, run) =>
      h("button", {
        type: "button",
        class: mode === "logout" ? "danger" : "secondary",
        "data-key": `${a.agent}:${mode}`,
        "aria-label": `${label}: ${a.agent}`,
        disabled: !enabled,
        text: label,
        onclick: (event) => run(event.currentTarget),
      });
    const talking = a.state === "on_call";
    return h(
      "tr",
      { "data-agent": a.agent, "data-state": a.state },
      h("th", { scope: "row", text: a.agent }),
      h("td", {}, h("span", {
        class: "state",
        "data-state": a.state,
        text: tv("state", a.state) + (a.reason ? ` · ${tv("reason", a.reason)}` : ""),
      })),
      h("td", { class: "num" }, a.state === "logged_out" ? dash : since(a.since)),
      h("td", { class: "num", text: a.calls_taken }),
      h("td", { class: "call" }, call
        ? [
          h("span", { class: "number", text: call.caller }),
          // On the call: how long it has lasted (the state's time is the call's).
          h("div", { class: "small" }, call.queue, talking ? [" · ", since(a.since)] : []),
        ]
        : dash),
      h(
        "td",
        {},
        h(
          "div",
          { class: "row-actions" },
          button("listen", t("act.listen"), talking, (b) => supervise(a.agent, "listen", b)),
          button("whisper", t("act.whisper"), talking, (b) => supervise(a.agent, "whisper", b)),
          button("barge", t("act.barge"), talking, (b) => supervise(a.agent, "barge", b)),
          button("pause", t("act.pause"), a.state !== "logged_out" && a.state !== "paused", (b) => forcePause(a.agent, b)),
          button("logout", t("act.logout"), a.state !== "logged_out", (b) => forceLogOut(a.agent, b)),
        ),
      ),
    );
  }

  async function supervise(agent, mode, button) {
    const from = phone.value.trim();
    if (!from) {
      errors.textContent = t("board.need_phone");
      phone.focus();
      return;
    }
    localStorage.setItem(PHONE_KEY, from);
    const question = {
      listen: () => t("confirm.listen", { agent, phone: from }),
      whisper: () => t("confirm.whisper", { agent, phone: from }),
      barge: () => t("confirm.barge", { agent, phone: from }),
    }[mode]();
    if (!(await ask(question))) return;
    const done = await act(button, errors, () =>
      api("POST", `/centre/agents/${encodeURIComponent(agent)}/supervise`, { phone: from, mode }));
    if (done !== undefined) say(messages, t("done"));
  }

  async function forcePause(agent, button) {
    const reasons = $("pause-reasons").content.firstElementChild.cloneNode(true);
    const label = h("label", { for: reasons.id, text: t("desk.reason") });
    if (!(await ask(t("confirm.pause", { agent }), h("div", {}, label, " ", reasons)))) return;
    const done = await act(button, errors, () =>
      api("POST", `/centre/agents/${encodeURIComponent(agent)}/pause`, { reason: reasons.value }));
    if (done !== undefined) say(messages, t("done"));
  }

  async function forceLogOut(agent, button) {
    if (!(await ask(t("confirm.logout", { agent })))) return;
    const done = await act(button, errors, () =>
      api("POST", `/centre/agents/${encodeURIComponent(agent)}/logout`, {}));
    if (done !== undefined) say(messages, t("done"));
  }

  function showWaiting() {
    const waiting = [...floor.waiting].sort((a, b) => Date.parse(a.joined_at) - Date.parse(b.joined_at));
    $("nobody-waiting").hidden = waiting.length > 0;
    $("waiting").hidden = waiting.length === 0;
    const more = $("more-waiting");
    more.hidden = waiting.length <= WAITING_SHOWN;
    more.textContent = more.hidden ? "" : t("board.more_waiting", { count: waiting.length - WAITING_SHOWN });
    const available = floor.agents.filter((a) => a.state === "available").map((a) => a.agent);
    $("waiting").tBodies[0].replaceChildren(...waiting.slice(0, WAITING_SHOWN).map((w) => {
      const id = `move-${w.call}`;
      const targets = h(
        "select",
        { id },
        floor.queues.filter((q) => q.name !== w.queue).map((q) =>
          h("option", { value: `queue:${q.name}`, text: t("transfer.queue", { name: q.name }) })),
        available.map((a) => h("option", { value: `agent:${a}`, text: t("move.agent", { name: a }) })),
      );
      const move = h("button", {
        type: "button",
        class: "secondary",
        "data-key": `${w.call}:move`,
        text: t("act.move"),
        disabled: targets.options.length === 0,
        onclick: async (event) => {
          const button = event.currentTarget;
          const [kind, name] = targets.value.split(/:(.*)/s);
          if (!(await ask(t("confirm.move", { to: targets.selectedOptions[0]?.textContent ?? name })))) return;
          const done = await act(button, errors, () =>
            api("POST", `/centre/calls/${encodeURIComponent(w.call)}/move`, { [kind]: name }));
          if (done !== undefined) say(messages, t("done"));
        },
      });
      return h(
        "tr",
        { "data-call": w.call },
        h("td", { text: w.queue }),
        h("td", { class: "num", text: w.position }),
        h("td", { class: "number", text: w.caller }),
        h("td", { text: tv("lang", w.language) }),
        h("td", { text: w.department ? departmentName(w.department) : dash }),
        h("td", { class: "num" }, since(w.joined_at)),
        h("td", {}, h("label", { for: id, class: "visually-hidden", text: t("col.move") }), targets, " ", move),
      );
    }));
  }
}

// ----- reports -----------------------------------------------------------------------------------

function reportsPage() {
  const errors = $("report-error");
  const from = $("report-from");
  const to = $("report-to");
  const today = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE }).format(new Date());
  from.value = today;
  to.value = today;
  let csvUrl = null;

  $("report-form").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  loadDepartments().then(load);

  async function load() {
    errors.textContent = "";
    let report;
    try {
      report = await api("GET", `/reports/calls?from=${from.value}&to=${to.value}`);
    } catch (error) {
      showError(errors, error);
      return;
    }
    show(report);
  }

  const percent = (share) => (share === null || share === undefined ? "—" : `${Math.round(share * 100)}%`);

  function show(report) {
    const hourly = report.granularity === "hour";
    const c = report.calls;
    $("summary").replaceChildren(
      ...[
        [t("col.calls"), c.calls],
        [t("sum.answered"), c.answered],
        [t("col.complaints"), c.complaints_filed],
        [t("sum.containment"), percent(c.containment)],
        [t("sum.duration"), c.average_duration_ms === null ? "—" : duration(c.average_duration_ms / 1000)],
      ].map(([label, value]) => h("div", {}, h("dt", { text: label }), h("dd", { text: value }))),
    );

    // Calls per hour (or day).
    $("series-title").textContent = t(hourly ? "reports.per_hour" : "reports.per_day");
    const rows = report.series;
    const label = (row) => (hourly ? row.start.slice(11, 13) : row.start.slice(5, 10));
    columns($("series-chart"), rows.map((r) => ({ label: label(r), value: r.calls, second: r.to_agent })), t(hourly ? "reports.per_hour" : "reports.per_day"));
    table($("series-table"), [t(hourly ? "col.hour" : "col.day"), t("col.calls"), t("col.to_agent"), t("col.complaints"), t("col.contained")],
      rows.map((r) => [label(r), r.calls, r.to_agent, r.complaints_filed, r.contained]));

    // Service level by queue.
    bars($("sl-chart"), report.queues.map((q) => ({
      label: q.queue,
      value: (q.service_level ?? 0) * 100,
      text: percent(q.service_level),
    })), 100, t("reports.sl"));
    table($("sl-table"), [t("col.queue"), t("col.offered"), t("sum.answered"), t("col.abandoned"), t("col.service_level"), t("col.asa")],
      report.queues.map((q) => [q.queue, q.offered, q.answered, q.abandoned, percent(q.service_level),
        q.average_speed_of_answer_ms === null ? "—" : duration(q.average_speed_of_answer_ms / 1000)]));

    // Complaints per department.
    const depts = report.complaints_by_department;
    const most = Math.max(1, ...depts.map((d) => d.complaints_filed));
    bars($("departments-chart"), depts.map((d) => ({
      label: departmentName(d.department),
      value: d.complaints_filed,
      text: String(d.complaints_filed),
    })), most, t("reports.departments"));
    table($("departments-table"), [t("col.department"), t("col.complaints")],
      depts.map((d) => [departmentName(d.department), d.complaints_filed]));

    // The CSV: the same figures, one section after another.
    const csv = [
      ["section", "start", "calls", "to_agent", "abandoned", "complaints_filed", "contained"],
      ...rows.map((r) => ["series", r.start, r.calls, r.to_agent, r.abandoned, r.complaints_filed, r.contained]),
      [],
      ["section", "queue", "offered", "answered", "abandoned", "answered_within_target", "service_level", "average_speed_of_answer_ms"],
      ...report.queues.map((q) => ["queues", q.queue, q.offered, q.answered, q.abandoned, q.answered_within_target, q.service_level ?? "", q.average_speed_of_answer_ms ?? ""]),
      [],
      ["section", "department", "complaints_filed"],
      ...depts.map((d) => ["departments", d.department, d.complaints_filed]),
    ].map((row) => row.map(csvCell).join(",")).join("\r\n");
    if (csvUrl) URL.revokeObjectURL(csvUrl);
    csvUrl = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
    const link = $("report-csv");
    link.href = csvUrl;
    link.download = `helpline-report-${from.value}-${to.value}.csv`;
  }
}

function csvCell(value) {
  const text = String(value ?? "");
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function table(el, head, rows) {
  el.replaceChildren(
    h("thead", {}, h("tr", {}, head.map((cell) => h("th", { scope: "col", text: cell })))),
    h("tbody", {}, rows.map((row) => h("tr", {}, row.map((cell) => h("td", { text: cell }))))),
  );
}

/** Vertical bars (calls per hour): `value` and, narrower inside it, `second`. */
function columns(el, rows, title) {
  if (!rows.length || rows.every((r) => !r.value)) {
    el.replaceChildren(h("p", { text: t("reports.no_data") }));
    return;
  }
  const width = Math.max(360, el.clientWidth || 720);
  const height = 220;
  const left = 36;
  const bottom = 22;
  const top = 8;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const step = (width - left) / rows.length;
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title }, s("title", { text: title }));
  svg.append(s("line", { class: "axis", x1: left, y1: height - bottom, x2: width, y2: height - bottom }));
  for (const tick of [0, Math.round(max / 2), max]) {
    svg.append(s("text", { x: left - 6, y: y(tick) + 4, "text-anchor": "end", text: tick }));
  }
  rows.forEach((r, i) => {
    const x = left + i * step + step * 0.15;
    const w = step * 0.7;
    svg.append(s("rect", { class: "bar", x, y: y(r.value), width: w, height: height - bottom - y(r.value) },
      s("title", { text: `${r.label}: ${r.value}` })));
    if (r.second) {
      svg.append(s("rect", { class: "bar second", x: x + w * 0.25, y: y(r.second), width: w * 0.5, height: height - bottom - y(r.second) }));
    }
    if (rows.length <= 31 || i % 2 === 0) {
      svg.append(s("text", { x: x + w / 2, y: height - 6, "text-anchor": "middle", text: r.label }));
    }
  });
  el.replaceChildren(svg);
}

/** Horizontal bars (a queue's service level, a department's complaints) on a scale of `max`. */
function bars(el, rows, max, title) {
  if (!rows.length) {
    el.replaceChildren(h("p", { text: t("reports.no_data") }));
    return;
  }
  const width = Math.max(320, el.clientWidth || 520);
  const line = 26;
  const left = 170;
  const height = rows.length * line + 8;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title }, s("title", { text: title }));
  rows.forEach((r, i) => {
    const y = 4 + i * line;
    const w = Math.max(1, ((width - left - 50) * r.value) / max);
    svg.append(
      s("text", { x: left - 8, y: y + 16, "text-anchor": "end", text: r.label }),
      s("rect", { class: "bar", x: left, y: y + 3, width: w, height: line - 8 }, s("title", { text: `${r.label}: ${r.text}` })),
      s("text", { x: left + w + 6, y: y + 16, text: r.text }),
    );
  });
  el.replaceChildren(svg);
}

// ----- start -------------------------------------------------------------------------------------

logoutButton();
const pages = { login: loginPage, desk: deskPage, board: boardPage, reports: reportsPage };
// A page that only says something (403, throttled) is `data-page="none"`: nothing to run.
pages[body.dataset.page]?.();
