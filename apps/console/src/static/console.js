/* global AbortController, Blob, clearInterval, confirm, crypto, document, fetch, FormData, sessionStorage, setInterval, TextDecoder */
/**
 * The operator console (docs/console.md): plain DOM, no framework, no inline script or style. The MNO id
 * and API key are entered once and kept in this tab's sessionStorage; the key is never shown back.
 * Every call goes through the console server's relay to the SM-DP / SM-SR, which check the key as for
 * ES2 / ES4. Values reach the page as text, never HTML; diagrams arrive as SVG images (blob: URLs).
 */

const KEY = 'rsp.console.credentials';
const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

/** Calls started from this tab (kept with the SM-DP's list, which may not name them all). */
const localTransactions = new Map();
let stream = null;
let openEid = null;

function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined && value !== null && value !== false) element.setAttribute(name, String(value));
  for (const child of children) if (child !== null && child !== undefined) element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return element;
}

function credentials() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
    return stored && typeof stored.mnoId === 'string' && typeof stored.apiKey === 'string' ? stored : null;
  } catch {
    return null;
  }
}

function setStatus(message, kind = 'info') {
  const status = byTestId('status');
  status.textContent = message;
  status.dataset.kind = kind;
}

function showError(box, error) {
  const code = error?.code ?? 'ERR_CONSOLE_UNEXPECTED';
  const message = error?.message ?? 'Something went wrong';
  setStatus(`${code}: ${message}`, 'error');
  const target = byTestId(box);
  if (target) {
    target.replaceChildren(el('span', {}, message), ' ', el('code', { 'data-testid': `${box}-code` }, code));
    target.hidden = false;
  }
}

function clearError(box) {
  const target = byTestId(box);
  if (target) target.hidden = true;
}

class ConsoleError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function headers(extra = {}) {
  const creds = credentials();
  if (!creds) throw new ConsoleError('ERR_CONSOLE_NO_KEY', 'Enter your API key first');
  return { accept: 'application/json', 'x-api-key': creds.apiKey, ...extra };
}

async function getJson(path) {
  const response = await fetch(path, { headers: headers(), credentials: 'omit', cache: 'no-store' });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ConsoleError(data?.error?.code ?? `HTTP_${response.status}`, data?.error?.message ?? `HTTP ${response.status}`);
  return data;
}

/** An ES2 / ES4 function call; a Failed status becomes a ConsoleError with its SGP.02 codes. */
async function callFunction(service, iface, fn, params, consent) {
  const creds = credentials();
  const functionCallIdentifier = crypto.randomUUID();
  const entry = { functionCallIdentifier, functionName: fn, eid: params.eid, status: 'running', startedAt: new Date().toISOString(), local: true, service };
  localTransactions.set(functionCallIdentifier, entry);
  renderTransactions();
  const response = await fetch(`/api/${service}/gsma/${iface}/${fn}`, {
    method: 'POST',
    headers: headers({ 'content-type': 'application/json', ...(consent ? { 'x-owner-consent': consent } : {}) }),
    credentials: 'omit',
    body: JSON.stringify({ header: { functionRequesterIdentifier: creds.mnoId, functionCallIdentifier }, ...params }),
  });
  const data = await response.json().catch(() => null);
  const status = data?.header?.functionExecutionStatus;
  entry.status = status?.status ?? `HTTP ${response.status}`;
  renderTransactions();
  if (!status || status.status === 'Failed' || status.status === 'Expired') {
    const codes = status?.statusCodeData ? `${status.statusCodeData.subjectCode}/${status.statusCodeData.reasonCode}` : `HTTP_${response.status}`;
    throw new ConsoleError(`${status?.status ?? 'Failed'} ${codes}`, status?.statusCodeData?.message ?? `${fn} refused`);
  }
  return { functionCallIdentifier, data };
}

/* ---------- notifications: what the live streams and calls reported ---------- */

function note(text, kind = 'info') {
  const list = byTestId('notifications');
  list.prepend(el('li', { 'data-testid': 'notification', 'data-kind': kind }, el('time', {}, new Date().toLocaleTimeString()), ` ${text}`));
  while (list.children.length > 50) list.lastChild.remove();
}

/**
 * The ES2 / ES4 notifications the services sent to this MNO (GET /mno/notifications at each, read back from
 * their outboxes), newest first, with their delivery state; refreshed every 5 s while signed in.
 */
async function loadMnoNotifications() {
  const lists = await Promise.all(['smdp', 'smsr'].map((service) => getJson(`/api/${service}/mno/notifications?limit=25`).then((data) => data?.notifications ?? [])));
  const rows = lists.flat().sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
  byTestId('mno-notifications').replaceChildren(
    ...rows.map((entry) => {
      const sent = entry.notification ?? {};
      const body = sent.body ?? {};
      const what = `${entry.interface} ${sent.function ?? sent.notification ?? 'notification'}${body.iccid ? ` ICCID ${body.iccid}` : ''}${body.eid ? ` on …${String(body.eid).slice(-8)}` : ''}`;
      return el(
        'li',
        { 'data-testid': 'mno-notification', 'data-interface': entry.interface, 'data-delivery': entry.delivery },
        el('time', {}, new Date(entry.createdAt).toLocaleTimeString()),
        ` ${what} — ${entry.delivery}`,
      );
    }),
  );
}

let notesTimer;
function followMnoNotifications() {
  clearInterval(notesTimer);
  const refresh = () => loadMnoNotifications().then(() => clearError('mno-notes-error'), (error) => showError('mno-notes-error', error));
  refresh();
  notesTimer = setInterval(() => (credentials() ? refresh() : clearInterval(notesTimer)), 5000);
}

/* ---------- fleet ---------- */

async function loadFleet() {
  clearError('fleet-error');
  const q = byTestId('fleet-q').value.trim();
  const { devices, truncated } = await getJson(`/api/smsr/mno/fleet${q ? `?q=${encodeURIComponent(q)}` : ''}`);
  byTestId('fleet').replaceChildren(
    ...devices.map((device) =>
      el(
        'tr',
        { 'data-testid': 'fleet-device', 'data-eid': device.eid },
        el('td', {}, el('code', {}, device.eid)),
        el('td', {}, device.platformType ?? '?'),
        el('td', {}, device.profiles.map((profile) => `${profile.profileType ?? 'profile'} (${profile.state})`).join(', ')),
        el('td', {}, el('button', { type: 'button', 'data-testid': 'fleet-open', 'data-eid': device.eid, 'aria-label': `Open ${device.eid}` }, 'Open')),
      ),
    ),
  );
  byTestId('fleet-empty').hidden = devices.length > 0;
  setStatus(`${devices.length} device${devices.length === 1 ? '' : 's'}${truncated ? ' (first page)' : ''}.`, 'ok');
}

/* ---------- one device, live ---------- */

function renderDevice(device) {
  byTestId('device').hidden = false;
  byTestId('device-eid').textContent = device.eid;
  byTestId('device-type').textContent = device.platformType ?? 'unknown device type';
  byTestId('profiles').replaceChildren(
    ...(device.profiles.length === 0 ? [el('tr', {}, el('td', { colspan: 4 }, 'None of your profiles is on this device.'))] : []),
    ...device.profiles.map((profile) =>
      el(
        'tr',
        { 'data-testid': 'profile', 'data-iccid': profile.iccid, 'data-state': profile.state },
        el('td', {}, el('code', {}, profile.iccid)),
        el('td', {}, profile.profileType ?? '?'),
        el('td', { 'data-testid': 'profile-state' }, profile.state),
        el(
          'td',
          {},
          profile.state === 'Enabled' ? null : el('button', { type: 'button', 'data-action': 'enableProfile', 'data-iccid': profile.iccid, 'data-testid': 'profile-enable' }, 'Enable'),
          profile.state === 'Enabled' ? el('button', { type: 'button', 'data-action': 'disableProfile', 'data-iccid': profile.iccid, 'data-testid': 'profile-disable' }, 'Disable') : null,
          el('button', { type: 'button', 'data-action': 'deleteProfile', 'data-iccid': profile.iccid, 'data-testid': 'profile-delete', class: 'danger' }, 'Delete'),
        ),
      ),
    ),
  );
}

/** Reads a text/event-stream with fetch (EventSource cannot send X-API-Key); calls `onEvent(name, data)`. */
async function readEvents(path, onEvent, signal) {
  const response = await fetch(path, { headers: headers({ accept: 'text/event-stream' }), credentials: 'omit', cache: 'no-store', signal });
  if (!response.ok || !response.body) {
    const data = await response.json().catch(() => null);
    throw new ConsoleError(data?.error?.code ?? `HTTP_${response.status}`, data?.error?.message ?? 'stream refused');
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length === 0) continue;
      let parsed;
      try {
        parsed = JSON.parse(data.join('\n'));
      } catch {
        parsed = data.join('\n');
      }
      if (onEvent(name, parsed) === false) return;
    }
  }
}

async function openDevice(eid) {
  clearError('device-error');
  stream?.abort();
  openEid = eid;
  byTestId('open-eid').value = eid;
  renderDevice(await getJson(`/api/smsr/mno/fleet/${eid}`));
  const controller = new AbortController();
  stream = controller;
  const live = byTestId('device-live');
  let previous = null; // the first event is the starting point, not a change
  readEvents(
    `/api/smsr/mno/fleet/${eid}/events`,
    (name, device) => {
      if (name !== 'device' || device.eid !== openEid) return true;
      live.textContent = 'live';
      const states = new Map(device.profiles.map((profile) => [profile.iccid, profile.state]));
      if (previous) {
        for (const [iccid, state] of states) if (previous.get(iccid) !== state) note(`${eid.slice(-6)}: profile …${iccid.slice(-4)} is now ${state}${previous.has(iccid) ? '' : ' (new)'}`);
        for (const iccid of previous.keys()) if (!states.has(iccid)) note(`${eid.slice(-6)}: profile …${iccid.slice(-4)} deleted`);
      }
      previous = states;
      renderDevice(device);
      return true;
    },
    controller.signal,
  )
    .catch((error) => {
      if (controller.signal.aborted) return;
      showError('device-error', error);
    })
    .finally(() => {
      if (stream === controller) live.textContent = 'not live';
    });
}

/* ---------- transactions ---------- */

function renderTransactions(serverList = null) {
  if (serverList) for (const entry of serverList) localTransactions.set(entry.functionCallIdentifier, { ...localTransactions.get(entry.functionCallIdentifier), ...entry });
  const rows = [...localTransactions.values()].sort((a, b) => String(b.startedAt).localeCompare(String(a.startedAt)));
  byTestId('transactions').replaceChildren(
    ...rows.map((tx) =>
      el(
        'tr',
        { 'data-testid': 'transaction', 'data-id': tx.functionCallIdentifier, 'data-status': tx.status },
        el('td', {}, new Date(tx.startedAt).toLocaleTimeString()),
        el('td', { 'data-testid': 'transaction-interface' }, tx.service === 'smsr' ? 'ES4' : 'ES2'),
        el('td', {}, tx.functionName ?? '?'),
        el('td', {}, el('code', {}, String(tx.eid ?? '').slice(-8))),
        el('td', { 'data-testid': 'transaction-status' }, tx.status ?? '?'),
        el('td', {}, el('button', { type: 'button', 'data-testid': 'transaction-open', 'data-id': tx.functionCallIdentifier }, 'Sequence')),
      ),
    ),
  );
}

/** The caller's recent transactions: ES2 calls at the SM-DP and ES4 calls at the SM-SR (GET /transactions at each). */
async function loadTransactions() {
  clearError('tx-error');
  const lists = await Promise.all(
    ['smdp', 'smsr'].map(async (service) => {
      const data = await getJson(`/api/${service}/transactions`);
      return (Array.isArray(data) ? data : (data?.transactions ?? [])).map((tx) => ({
        functionCallIdentifier: tx.functionCallIdentifier ?? tx.id,
        functionName: tx.functionName ?? tx.function,
        eid: tx.eid,
        status: tx.status?.status ?? tx.finalStatus ?? tx.status ?? tx.state,
        startedAt: tx.startedAt ?? tx.createdAt ?? new Date().toISOString(),
        service,
      }));
    }),
  );
  renderTransactions(lists.flat());
}

function renderHops(hops) {
  const start = hops.length ? Math.min(...hops.map((hop) => hop.at)) : 0;
  byTestId('tx-hops').replaceChildren(
    ...hops.map((hop) =>
      el(
        'tr',
        { 'data-testid': 'hop', 'data-interface': hop.interface },
        el('td', {}, String(hop.at - start)),
        el('td', {}, `${hop.from} → ${hop.to}`),
        el('td', {}, hop.interface),
        el('td', {}, `${hop.label} (${hop.kind})`),
        el('td', {}, hop.durationMs === undefined ? '' : `${hop.durationMs} ms`),
        el('td', {}, hop.status ?? ''),
      ),
    ),
  );
}

async function showDiagram(id, service) {
  const response = await fetch(`/api/sequence/${encodeURIComponent(id)}.svg?service=${service}`, { headers: headers({ accept: 'image/svg+xml' }), credentials: 'omit', cache: 'no-store' });
  const image = byTestId('tx-diagram');
  if (!response.ok) {
    image.hidden = true;
    return;
  }
  const blob = new Blob([await response.text()], { type: 'image/svg+xml' });
  if (image.src) URL.revokeObjectURL(image.src);
  image.src = URL.createObjectURL(blob);
  image.alt = `Message sequence diagram of transaction ${id}`;
  image.hidden = false;
}

/** Follows a transaction: its steps as they come (SSE), then its hops and diagram at the terminal status. */
async function openTransaction(id) {
  clearError('tx-error');
  byTestId('tx-detail').hidden = false;
  byTestId('tx-id').textContent = id;
  byTestId('tx-steps').replaceChildren();
  byTestId('tx-diagram').hidden = true;
  // An ES2 call is followed at the SM-DP, an ES4 call at the SM-SR (its steps: the ES5 scripts on the card).
  const service = localTransactions.get(id)?.service === 'smsr' ? 'smsr' : 'smdp';
  const finish = async () => {
    const tx = await getJson(`/api/${service}/transactions/${encodeURIComponent(id)}`);
    // The hops as the diagram draws them: an ES2 call's go down to the eUICC (the SM-SR's records of its ES3 calls).
    const drawn = await getJson(`/api/sequence/${encodeURIComponent(id)}.json?service=${service}`).catch(() => tx);
    renderHops(Array.isArray(drawn.hops) ? drawn.hops : []);
    const status = tx.status?.status ?? tx.finalStatus ?? tx.status ?? tx.state;
    if (localTransactions.has(id) && typeof status === 'string') localTransactions.get(id).status = status;
    renderTransactions();
    await showDiagram(id, service);
  };
  await readEvents(`/api/${service}/transactions/${encodeURIComponent(id)}/events`, (name, data) => {
    const label = typeof data === 'object' && data ? (data.step ?? data.name ?? data.label ?? name) : String(data);
    const state = typeof data === 'object' && data ? (data.status?.status ?? data.status ?? data.state ?? '') : '';
    byTestId('tx-steps').append(el('li', { 'data-testid': 'tx-step' }, `${label}${state ? `: ${state}` : ''}`));
    // A step's own status (an ES3 call that ended) is not the transaction's end: only "done" is.
    return !(label === 'done' || name === 'end' || name === 'done');
  });
  await finish();
}

/* ---------- wiring ---------- */

function render() {
  const creds = credentials();
  byTestId('key-section').hidden = creds !== null;
  byTestId('console').hidden = creds === null;
  byTestId('who').hidden = creds === null;
  byTestId('who-mno').textContent = creds?.mnoId ?? '';
  return creds;
}

const guarded = (box, run) => async (event) => {
  event?.preventDefault();
  try {
    await run(event);
  } catch (error) {
    showError(box, error);
  }
};

function bind() {
  byTestId('key-form').addEventListener('submit', guarded('key-error', async (event) => {
    const form = new FormData(event.target);
    const mnoId = String(form.get('mnoId') ?? '').trim();
    const apiKey = String(form.get('apiKey') ?? '').trim();
    sessionStorage.setItem(KEY, JSON.stringify({ mnoId, apiKey }));
    event.target.reset(); // the key is never shown back
    try {
      await loadFleet();
    } catch (error) {
      sessionStorage.removeItem(KEY);
      throw error;
    }
    render();
    followMnoNotifications();
    byTestId('fleet-q').focus();
  }));
  byTestId('mno-notes-refresh').addEventListener('click', guarded('mno-notes-error', () => loadMnoNotifications()));
  byTestId('forget-key').addEventListener('click', () => {
    stream?.abort();
    clearInterval(notesTimer);
    byTestId('mno-notifications').replaceChildren();
    sessionStorage.removeItem(KEY);
    localTransactions.clear();
    byTestId('fleet').replaceChildren();
    byTestId('device').hidden = true;
    render();
    setStatus('Key forgotten.', 'ok');
  });
  byTestId('fleet-form').addEventListener('submit', guarded('fleet-error', () => loadFleet()));
  byTestId('fleet').addEventListener('click', guarded('fleet-error', async (event) => {
    const button = event.target.closest('[data-testid="fleet-open"]');
    if (button) await openDevice(button.dataset.eid);
  }));
  byTestId('open-form').addEventListener('submit', guarded('device-error', () => openDevice(byTestId('open-eid').value.trim())));
  byTestId('profiles').addEventListener('click', guarded('device-error', async (event) => {
    const button = event.target.closest('button[data-action]');
    if (!button) return;
    const { action, iccid } = button.dataset;
    if (action === 'deleteProfile' && !confirm(`Delete profile ${iccid} from this device? This cannot be undone.`)) return;
    clearError('device-error');
    setStatus(`${action} …${iccid.slice(-4)}…`, 'busy');
    try {
      await callFunction('smsr', 'es4', action, { eid: openEid, iccid }, byTestId('device-consent').value.trim());
    } catch (error) {
      // SGP.02 8.2.1/1.2 on delete: the profile is Enabled (§5.6 DeleteProfile needs it disabled).
      if (action === 'deleteProfile' && /8\.2\.1\/1\.2$/.test(error.code ?? '')) error.message = `${error.message}: disable it first`;
      throw error;
    }
    setStatus(`${action} of …${iccid.slice(-4)}: Executed-Success.`, 'ok');
  }));
  byTestId('download-form').addEventListener('submit', guarded('download-error', async (event) => {
    clearError('download-error');
    const form = new FormData(event.target);
    const params = { eid: openEid, smsrId: String(form.get('smsrId') ?? '').trim(), profileType: String(form.get('profileType') ?? '').trim(), enableProfile: form.get('enable') === 'on' };
    setStatus('Downloading…', 'busy');
    const call = callFunction('smdp', 'es2', 'downloadProfile', params, byTestId('device-consent').value.trim());
    // Follow it live as soon as the SM-DP knows it (its transaction resource).
    const id = [...localTransactions.keys()].pop();
    const follow = openTransaction(id).catch((error) => {
      byTestId('tx-steps').replaceChildren(el('li', { 'data-testid': 'tx-unavailable' }, `No step stream for this call from the SM-DP (${error.code ?? 'unavailable'}).`));
    });
    const { data } = await call;
    await follow;
    await loadFleet();
    setStatus(`Download done: ICCID ${data?.iccid ?? '?'}.`, 'ok');
    note(`download on ${openEid.slice(-6)} finished: Executed-Success`);
  }));
  byTestId('tx-refresh').addEventListener('click', guarded('tx-error', () => loadTransactions()));
  byTestId('transactions').addEventListener('click', guarded('tx-error', async (event) => {
    const button = event.target.closest('[data-testid="transaction-open"]');
    if (button) await openTransaction(button.dataset.id);
  }));
}

async function main() {
  bind();
  if (!render()) return setStatus('Enter your operator credentials.', 'info');
  try {
    await loadFleet();
    followMnoNotifications();
  } catch (error) {
    showError('fleet-error', error);
  }
  return undefined;
}

main();
