/* global document, fetch, FormData, history, location, URLSearchParams */
/**
 * The owner portal (docs/owner-registry.md): plain DOM, no framework. Every value from the IdP or the
 * API reaches the page through textContent / value / setAttribute, never innerHTML. API calls carry
 * the ID token as `Authorization: Bearer`; refusals show their stable `code` in the status area.
 */
import { OidcClient, OidcError } from './oidc.js';

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

const oidc = new OidcClient({
  issuer: meta('rsp-idp-issuer'),
  clientId: meta('rsp-client-id'),
  redirectUri: `${location.origin}/portal`,
});

/** Devices of the last listing, by EID. */
let devices = new Map();

class ApiError extends Error {
  constructor(httpStatus, code, message, stepUpRequired) {
    super(message);
    this.httpStatus = httpStatus;
    this.code = code;
    this.stepUpRequired = stepUpRequired;
  }
}

function setStatus(message, kind = 'info') {
  const status = byTestId('status');
  status.textContent = message;
  status.dataset.kind = kind;
}

function showError(error) {
  const code = error && typeof error.code === 'string' ? error.code : 'ERR_PORTAL_UNEXPECTED';
  const message = error instanceof ApiError || error instanceof OidcError ? error.message : 'Something went wrong';
  setStatus(message && message !== code ? `${code}: ${message}` : code, 'error');
}

/** `el('li', { 'data-testid': 'x' }, 'text', child)`: text children become text nodes. */
function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined && value !== null) element.setAttribute(name, String(value));
  for (const child of children) element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return element;
}

async function api(method, path, body) {
  const session = oidc.currentSession();
  if (!session) {
    render(); // the ID token expired: back to the sign-in screen
    throw new ApiError(401, 'ERR_PORTAL_SIGNED_OUT', 'Your sign-in expired: sign in again', false);
  }
  const headers = { accept: 'application/json', authorization: `Bearer ${session.idToken}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'omit',
      cache: 'no-store',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, 'ERR_PORTAL_REGISTRY_UNREACHABLE', 'The registry cannot be reached', false);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const problem = data && typeof data === 'object' ? (data.error && typeof data.error === 'object' ? data.error : data) : {};
    const code = typeof problem.code === 'string' ? problem.code : `HTTP_${response.status}`;
    const message = typeof problem.message === 'string' ? problem.message : '';
    // RFC 9470 §3: insufficient_user_authentication asks for a fresh login.
    const stepUp = code === 'ERR_IDENTITY_STEP_UP_REQUIRED' || /insufficient_user_authentication/.test(response.headers.get('www-authenticate') ?? '');
    throw new ApiError(response.status, code, message, stepUp);
  }
  return data;
}

const eidPath = (eid) => encodeURIComponent(eid);

/* ---------- rendering ---------- */

function renderUser(session) {
  const { claims } = session;
  byTestId('user-iss').textContent = String(claims.iss ?? '');
  byTestId('user-sub').textContent = String(claims.sub ?? '');
  byTestId('user-auth-time').textContent = typeof claims.auth_time === 'number' ? new Date(claims.auth_time * 1000).toISOString() : 'unknown';
  const grantIss = byTestId('grant-iss');
  if (!grantIss.value) grantIss.value = String(claims.iss ?? '');
}

function grantSubject(grant) {
  const subject = grant.subject && typeof grant.subject === 'object' ? grant.subject : grant;
  return { iss: String(subject.iss ?? ''), sub: String(subject.sub ?? '') };
}

function renderGrant(grant) {
  const { iss, sub } = grantSubject(grant);
  const via = grant.groupId ? ` via group ${grant.groupId}` : '';
  return el(
    'li',
    { 'data-testid': 'grant', 'data-role': grant.role, 'data-sub': sub, 'data-iss': iss },
    el('strong', {}, String(grant.role ?? '?')),
    ` ${sub} @ ${iss}${via}`,
  );
}

function renderDevice(device, grants) {
  const session = oidc.currentSession();
  const mine = grants.find((grant) => {
    const subject = grantSubject(grant);
    return session && subject.iss === session.claims.iss && subject.sub === session.claims.sub;
  });
  const myRole = device.role ?? device.myRole ?? mine?.role ?? '';
  return el(
    'li',
    { 'data-testid': 'device', 'data-eid': device.eid, 'data-role': myRole, 'data-status': device.status ?? '' },
    el('div', { class: 'device-title' }, el('strong', { 'data-testid': 'device-model' }, String(device.model ?? 'device')), ' ', el('code', { 'data-testid': 'device-url' }, String(device.deviceUrl ?? ''))),
    el(
      'div',
      {},
      'EID ',
      el('code', { 'data-testid': 'device-eid' }, String(device.eid ?? '')),
      ' · status ',
      el('span', { 'data-testid': 'device-status' }, String(device.status ?? '?')),
      ' · my role ',
      el('span', { 'data-testid': 'device-role' }, String(myRole || '?')),
    ),
    el('ul', { 'data-testid': 'grants', class: 'grants' }, ...grants.map(renderGrant)),
  );
}

function renderDeviceSelect() {
  const select = byTestId('device-select');
  const previous = select.value;
  select.replaceChildren(...[...devices.values()].map((device) => el('option', { value: device.eid }, `${device.model ?? 'device'} – ${device.deviceUrl ?? device.eid}`)));
  if (devices.has(previous)) select.value = previous;
}

/** GET /me/devices, then each device's grants (GET /devices/{eid}) unless the listing has them. */
async function refreshDevices() {
  const listing = await api('GET', '/me/devices');
  const list = Array.isArray(listing) ? listing : Array.isArray(listing?.devices) ? listing.devices : [];
  const details = await Promise.all(
    list.map(async (entry) => {
      const device = entry.device && typeof entry.device === 'object' ? { ...entry.device, ...entry, device: undefined } : entry;
      if (Array.isArray(entry.grants)) return { device, grants: entry.grants };
      const detail = await api('GET', `/devices/${eidPath(device.eid)}`);
      const merged = detail?.device && typeof detail.device === 'object' ? { ...device, ...detail.device } : { ...device, ...detail };
      if (detail?.status && typeof detail.status === 'string') merged.status = detail.status;
      return { device: merged, grants: Array.isArray(detail?.grants) ? detail.grants : [] };
    }),
  );
  devices = new Map(details.map(({ device }) => [device.eid, device]));
  byTestId('devices').replaceChildren(...details.map(({ device, grants }) => renderDevice(device, grants)));
  byTestId('devices-empty').hidden = details.length > 0;
  renderDeviceSelect();
}

function render() {
  const session = oidc.currentSession();
  byTestId('signed-out').hidden = session !== null;
  byTestId('signed-in').hidden = session === null;
  if (session) renderUser(session);
  return session;
}

/* ---------- actions ---------- */

function selectedEid() {
  const eid = byTestId('device-select').value;
  if (!eid) throw new ApiError(0, 'ERR_PORTAL_NO_DEVICE', 'Choose a device first', false);
  return eid;
}

/** Runs an action with the status area as its outcome; refreshes the device list after a change. */
function action(busyMessage, run) {
  return async (event) => {
    event?.preventDefault();
    setStatus(busyMessage, 'busy');
    try {
      const message = await run(event);
      if (oidc.currentSession()) await refreshDevices();
      setStatus(message, 'ok');
    } catch (error) {
      showError(error);
    }
  };
}

function formValues(form) {
  return Object.fromEntries([...new URLSearchParams(new FormData(form))].map(([name, value]) => [name, value.trim()]));
}

const startSignIn = (fresh, resume) => async () => {
  setStatus(fresh ? 'Redirecting to a fresh sign-in…' : 'Redirecting to sign in…', 'busy');
  try {
    await oidc.signIn({ fresh, resume });
  } catch (error) {
    showError(error);
  }
};

function bind() {
  byTestId('sign-in').addEventListener('click', startSignIn(false));
  byTestId('fresh-login').addEventListener('click', startSignIn(true));
  byTestId('transfer-step-up').addEventListener('click', () => {
    const resume = { section: 'transfer', eid: byTestId('device-select').value, subscription: byTestId('transfer-subscription').value };
    return startSignIn(true, resume)();
  });
  byTestId('sign-out').addEventListener('click', async () => {
    const leaving = await oidc.signOut();
    devices = new Map();
    byTestId('devices').replaceChildren();
    byTestId('transfer-result').hidden = true;
    byTestId('transfer-code').textContent = '';
    byTestId('transfer-step-up-box').hidden = true;
    for (const form of document.querySelectorAll('form')) form.reset();
    byTestId('grant-iss').value = '';
    render();
    setStatus(leaving ? 'Signing out at the identity provider…' : 'Signed out.', 'ok');
  });
  byTestId('refresh-devices').addEventListener('click', action('Loading your devices…', async () => 'Devices refreshed.'));

  byTestId('claim-form').addEventListener(
    'submit',
    action('Claiming…', async (event) => {
      const { deviceUrl, claimCode } = formValues(event.target);
      await api('POST', '/devices/claim', { deviceUrl, claimCode });
      event.target.reset();
      return 'Device claimed: you are its owner.';
    }),
  );

  byTestId('grant-form').addEventListener(
    'submit',
    action('Adding…', async (event) => {
      const { iss, sub, role } = formValues(event.target);
      await api('POST', `/devices/${eidPath(selectedEid())}/grants`, { role, iss, sub });
      byTestId('grant-sub').value = '';
      return `Added ${sub} as ${role}.`;
    }),
  );

  byTestId('transfer-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const stepUpBox = byTestId('transfer-step-up-box');
    stepUpBox.hidden = true;
    setStatus('Starting the transfer…', 'busy');
    try {
      const { subscription, mnoId, iccid } = formValues(event.target);
      const body = { subscription, ...(mnoId ? { mnoId } : {}), ...(iccid ? { iccid } : {}) };
      const result = await api('POST', `/devices/${eidPath(selectedEid())}/transfers`, body);
      byTestId('transfer-code').textContent = String(result?.transferCode ?? '');
      byTestId('transfer-expires').textContent = String(result?.expiresAt ?? '');
      byTestId('transfer-result').hidden = false;
      setStatus('Transfer started: give the code to the buyer. It works once and expires.', 'ok');
    } catch (error) {
      if (error instanceof ApiError && error.stepUpRequired) {
        stepUpBox.hidden = false;
        setStatus(`${error.code}: starting a transfer needs a fresh sign-in. Use “Sign in again (fresh login)”, then start the transfer again.`, 'error');
      } else {
        showError(error);
      }
    }
  });

  byTestId('suspend-form').addEventListener(
    'submit',
    action('Suspending…', async (event) => {
      const { reason } = formValues(event.target);
      await api('POST', `/devices/${eidPath(selectedEid())}/suspend`, { reason });
      return `Device suspended (${reason}).`;
    }),
  );

  byTestId('redeem-form').addEventListener(
    'submit',
    action('Redeeming…', async (event) => {
      const { deviceUrl, transferCode } = formValues(event.target);
      await api('POST', '/transfers/redeem', { deviceUrl, transferCode });
      event.target.reset();
      return 'Transfer complete: the device is yours.';
    }),
  );
}

/** After a step-up started from the transfer form: same device and choice preselected, not resubmitted. */
function applyResume(resume) {
  if (!resume || resume.section !== 'transfer') return;
  if (devices.has(resume.eid)) byTestId('device-select').value = resume.eid;
  if (resume.subscription === 'leave' || resume.subscription === 'pass') byTestId('transfer-subscription').value = resume.subscription;
  byTestId('transfer-submit').focus();
}

async function main() {
  bind();
  const params = new URLSearchParams(location.search);
  let signedInNow = false;
  let resume = null;
  if (params.has('code') || params.has('error')) {
    history.replaceState(null, '', location.pathname); // the code must not stay in the address bar or history
    try {
      ({ resume } = await oidc.completeSignIn(params));
      signedInNow = true;
    } catch (error) {
      render();
      showError(error);
      return;
    }
  }
  const session = render();
  if (!session) {
    setStatus('Signed out.', 'info');
    return;
  }
  try {
    await refreshDevices();
    applyResume(resume);
    setStatus(signedInNow ? `Signed in as ${session.claims.sub}.` : `Welcome back, ${session.claims.sub}.`, 'ok');
  } catch (error) {
    showError(error);
  }
}

main();
