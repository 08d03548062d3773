/* global CSS, document, history, location, sessionStorage, URLSearchParams */
/**
 * The owner portal (docs/owner-registry.md): plain DOM, no framework, no inline script or style
 * (strict CSP). Every value from the IdP or the API reaches the page as text, never HTML. A refusal
 * shows next to the form that caused it, in plain words with its code, and in the status line.
 */
import { ApiError, createApi, plainWords } from './api.js';
import { byTestId, el, formValues } from './dom.js';
import { bindManage, loadManage, resetManage, restoreTransferDraft } from './manage.js';
import { OidcClient, OidcError } from './oidc.js';

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';

const oidc = new OidcClient({ issuer: meta('rsp-idp-issuer'), clientId: meta('rsp-client-id'), redirectUri: `${location.origin}/portal` });
const api = createApi(() => oidc.currentSession(), () => render());

/** Devices of the last listing, by EID; profiles per EID as the operators last reported them. */
let devices = new Map();
const profilesByEid = new Map();

function setStatus(message, kind = 'info') {
  const status = byTestId('status');
  status.textContent = message;
  status.dataset.kind = kind;
}

/** Status line: `CODE: detail`; beside the form: the plain sentence and the code. */
function showError(error, formKey) {
  const code = error && typeof error.code === 'string' ? error.code : 'ERR_PORTAL_UNEXPECTED';
  const message = error instanceof ApiError || error instanceof OidcError ? error.message : 'Something went wrong';
  setStatus(message && message !== code ? `${code}: ${message}` : code, 'error');
  const box = formKey ? byTestId(`${formKey}-error`) : null;
  if (box) {
    box.replaceChildren(el('span', {}, plainWords(error)), ' ', el('code', { 'data-testid': `${formKey}-error-code` }, code));
    box.hidden = false;
  }
}

function clearError(formKey) {
  const box = byTestId(`${formKey}-error`);
  if (box) {
    box.hidden = true;
    box.replaceChildren();
  }
}

const STATUS_WORDS = { Active: 'working', Suspended: 'blocked', Revoked: 'retired' };

function renderGrant(grant) {
  const sub = String(grant.sub ?? grant.subject?.sub ?? '');
  const iss = String(grant.iss ?? grant.subject?.iss ?? '');
  return el('li', { 'data-testid': 'grant', 'data-role': grant.role, 'data-sub': sub, 'data-iss': iss }, el('strong', {}, sub), ` · ${grant.role ?? '?'}${grant.groupId ? ' (household)' : ''}`);
}

function profileLine(eid) {
  const known = profilesByEid.get(eid);
  if (!known) return 'Checking the mobile operator…';
  const enabled = known.profiles.find((profile) => profile.state === 'Enabled');
  if (enabled) return `Operator ${enabled.mnoId} · plan ${enabled.profileType ?? 'unknown'} · on`;
  if (known.profiles.length > 0) return `Operator ${known.profiles[0].mnoId} · profile off`;
  return known.unavailable.length > 0 ? 'Operator not reachable right now' : 'No mobile operator yet';
}

function renderDevice(device, grants) {
  const session = oidc.currentSession();
  const mine = grants.find((grant) => session && grant.iss === session.claims.iss && grant.sub === session.claims.sub);
  const myRole = device.role ?? mine?.role ?? '';
  const status = String(device.status ?? '?');
  return el(
    'li',
    { 'data-testid': 'device', 'data-eid': device.eid, 'data-role': myRole, 'data-status': status, class: 'card' },
    el('div', { class: 'device-title' }, el('strong', { 'data-testid': 'device-model' }, String(device.model ?? 'device')), el('span', { class: `badge badge-${status.toLowerCase()}`, 'data-testid': 'device-status', title: STATUS_WORDS[status] ?? '' }, status)),
    el('p', { 'data-testid': 'device-profile', class: 'profile-line' }, profileLine(device.eid)),
    el('p', { class: 'meta' }, 'You are ', el('span', { 'data-testid': 'device-role' }, String(myRole || '?')), ' · ', el('code', { 'data-testid': 'device-url' }, String(device.deviceUrl ?? ''))),
    el('details', {}, el('summary', {}, 'People and identifiers'), el('ul', { 'data-testid': 'grants', class: 'grants' }, ...grants.map(renderGrant)), el('p', { class: 'meta' }, 'EID ', el('code', { 'data-testid': 'device-eid' }, String(device.eid ?? '')))),
    el('button', { type: 'button', 'data-testid': 'device-manage', 'data-eid': device.eid }, `Manage ${device.model ?? 'device'}`),
  );
}

/** The operators' view of each device's profiles (ES2 GetEIS through the registry), in the background. */
async function refreshProfiles(eids) {
  await Promise.all(
    eids.map(async (eid) => {
      try {
        profilesByEid.set(eid, await api('GET', `/devices/${encodeURIComponent(eid)}/profiles`));
      } catch {
        profilesByEid.set(eid, { profiles: [], unavailable: [{ mnoId: '?', reason: 'unreachable' }] });
      }
      const line = document.querySelector(`[data-testid="device"][data-eid="${CSS.escape(eid)}"] [data-testid="device-profile"]`);
      if (line) line.textContent = profileLine(eid);
    }),
  );
}

/** GET /me/devices, then each device's grants (GET /devices/{eid}). */
async function refreshDevices({ profiles = false } = {}) {
  const listing = await api('GET', '/me/devices');
  const list = Array.isArray(listing?.devices) ? listing.devices : [];
  const details = await Promise.all(
    list.map(async (device) => {
      const detail = await api('GET', `/devices/${encodeURIComponent(device.eid)}`);
      return { device: { ...device, ...detail, grants: undefined }, grants: Array.isArray(detail?.grants) ? detail.grants : [] };
    }),
  );
  devices = new Map(details.map(({ device, grants }) => [device.eid, { ...device, grants }]));
  byTestId('devices').replaceChildren(...details.map(({ device, grants }) => renderDevice(device, grants)));
  byTestId('devices-empty').hidden = details.length > 0;
  const select = byTestId('device-select');
  const previous = select.value;
  select.replaceChildren(...details.map(({ device }) => el('option', { value: device.eid }, `${device.model ?? 'device'} (${device.deviceId ?? device.eid})`)));
  if (devices.has(previous)) select.value = previous;
  await loadManage(context, select.value || null);
  if (profiles || details.some(({ device }) => !profilesByEid.has(device.eid))) void refreshProfiles([...devices.keys()]).then(() => loadManage(context, select.value || null, { onlyProfiles: true }));
}

function render() {
  const session = oidc.currentSession();
  byTestId('signed-out').hidden = session !== null;
  byTestId('signed-in').hidden = session === null;
  byTestId('account').hidden = session === null;
  if (session) {
    const { claims } = session;
    byTestId('user-name').textContent = String(claims.preferred_username ?? claims.name ?? claims.sub ?? '');
    byTestId('user-iss').textContent = String(claims.iss ?? '');
    byTestId('user-sub').textContent = String(claims.sub ?? '');
    byTestId('user-auth-time').textContent = typeof claims.auth_time === 'number' ? new Date(claims.auth_time * 1000).toISOString() : 'unknown';
    const grantIss = byTestId('grant-iss');
    if (!grantIss.value) grantIss.value = String(claims.iss ?? '');
  }
  return session;
}

function selectedEid() {
  const eid = byTestId('device-select').value;
  if (!eid) throw new ApiError(0, 'ERR_PORTAL_NO_DEVICE', 'Choose a device first', false);
  return eid;
}

/** A form's handler: its error box cleared, the outcome in the status line, the list refreshed after a change. */
function action(formKey, busyMessage, run) {
  return async (event) => {
    event?.preventDefault();
    clearError(formKey);
    setStatus(busyMessage, 'busy');
    try {
      const message = await run(event);
      if (oidc.currentSession()) await refreshDevices();
      setStatus(message, 'ok');
    } catch (error) {
      showError(error, formKey);
    }
  };
}

const startSignIn = (fresh, resume) => async () => {
  setStatus(fresh ? 'Redirecting to a fresh sign-in…' : 'Redirecting to sign in…', 'busy');
  try {
    await oidc.signIn({ fresh, resume });
  } catch (error) {
    showError(error);
  }
};

const context = { api, action, showError, clearError, setStatus, selectedEid, startSignIn, devices: () => devices, profilesOf: (eid) => profilesByEid.get(eid), refreshDevices };

function bind() {
  byTestId('sign-in').addEventListener('click', startSignIn(false));
  byTestId('fresh-login').addEventListener('click', startSignIn(true));
  byTestId('sign-out').addEventListener('click', async () => {
    const leaving = await oidc.signOut();
    devices = new Map();
    profilesByEid.clear();
    byTestId('devices').replaceChildren();
    for (const form of document.querySelectorAll('form')) form.reset();
    for (const box of document.querySelectorAll('.form-error')) box.hidden = true;
    resetManage();
    byTestId('grant-iss').value = '';
    sessionStorage.removeItem('rsp.portal.draft.transfer');
    render();
    setStatus(leaving ? 'Signing out at the identity provider…' : 'Signed out.', 'ok');
  });
  byTestId('refresh-devices').addEventListener('click', action('devices', 'Loading your devices…', async () => {
    await refreshDevices({ profiles: true });
    return 'Devices refreshed.';
  }));
  byTestId('devices').addEventListener('click', (event) => {
    const button = event.target.closest('[data-testid="device-manage"]');
    if (!button) return;
    byTestId('device-select').value = button.dataset.eid;
    void loadManage(context, button.dataset.eid);
    byTestId('device-select').focus();
  });
  byTestId('claim-form').addEventListener('submit', action('claim', 'Adding the device…', async (event) => {
    const { deviceUrl, claimCode } = formValues(event.target);
    await api('POST', '/devices/claim', { deviceUrl, claimCode });
    event.target.reset();
    return 'Device claimed: you are its owner.';
  }));
  byTestId('redeem-form').addEventListener('submit', action('redeem', 'Taking ownership…', async (event) => {
    const { deviceUrl, transferCode } = formValues(event.target);
    await api('POST', '/transfers/redeem', { deviceUrl, transferCode });
    event.target.reset();
    return 'Transfer complete: the device is yours.';
  }));
  bindManage(context);
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
    if (resume?.section === 'transfer') restoreTransferDraft(context);
    setStatus(signedInNow ? `Signed in as ${session.claims.sub}.` : `Welcome back, ${session.claims.sub}.`, 'ok');
  } catch (error) {
    showError(error);
  }
}

main();
