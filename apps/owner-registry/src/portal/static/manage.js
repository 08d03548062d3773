/* global sessionStorage */
/**
 * "Manage a device": people with access, household groups, operator permissions (consents), selling
 * (the profile picked from the operators' list, never typed; the draft survives the step-up sign-in
 * in sessionStorage), moving operator with a PAC, blocking, settings and snapshots, and activity.
 */
import { ApiError } from './api.js';
import { byTestId, el, fillSelect, formValues, when } from './dom.js';

const DRAFT_KEY = 'rsp.portal.draft.transfer';
const path = (eid) => `/devices/${encodeURIComponent(eid)}`;

const OPERATION_WORDS = { DownloadProfile: 'install', EnableProfile: 'switch on', DisableProfile: 'switch off', DeleteProfile: 'remove' };
const CONSENT_STATE_WORDS = { active: 'active', revoked: 'withdrawn', expired: 'expired', superseded: 'ended by a sale' };
const ACTIVITY_WORDS = {
  'device.register': 'the maker registered the device',
  'device.claim': 'claimed the device',
  'grant.create': 'gave someone access',
  'grant.update': "changed someone's access",
  'grant.revoke': 'removed someone’s access',
  'group.device.add': 'added the device to a household',
  'consent.give': 'gave an operator permission',
  'consent.revoke': 'withdrew an operator permission',
  'transfer.start': 'started a sale',
  'transfer.redeem': 'took ownership',
  'porting.port': 'moved to another operator',
  'device.suspend': 'blocked the device',
  'device.reinstate': 'unblocked the device',
  'device.settings': 'changed the settings',
  'device.settings.apply': 'applied kept settings',
};

let operators = [];
let currentEid = null;

export function resetManage() {
  currentEid = null;
  operators = [];
  for (const id of ['people', 'consents', 'activity']) byTestId(id).replaceChildren();
  byTestId('transfer-result').hidden = true;
  byTestId('transfer-code').textContent = '';
  byTestId('transfer-step-up-box').hidden = true;
  byTestId('consent-given').hidden = true;
}

function renderPeople(ctx, device) {
  const people = (device?.grants ?? []).map((grant) =>
    el(
      'li',
      { 'data-testid': 'person', 'data-sub': grant.sub, 'data-role': grant.role },
      el('span', {}, `${grant.sub} · ${grant.role}`),
      grant.role === 'owner' || device.role === 'user'
        ? null
        : el('button', { type: 'button', 'data-testid': 'person-remove', 'data-grant': grant.id, 'aria-label': `Remove ${grant.sub}'s access` }, 'Remove'),
    ),
  );
  byTestId('people').replaceChildren(...people);
}

function renderProfiles(ctx, eid) {
  const known = ctx.profilesOf(eid);
  const options = (known?.profiles ?? []).map((profile) => ({
    value: `${profile.mnoId}|${profile.iccid}`,
    label: `${profile.mnoId}: ${profile.profileType ?? 'profile'} (${profile.state === 'Enabled' ? 'on' : 'off'}), ends …${profile.iccid.slice(-4)}`,
  }));
  fillSelect(byTestId('transfer-profile'), [...options, { value: '', label: 'No profile to remove' }]);
}

async function renderConsents(ctx, eid, role) {
  if (role !== 'owner') {
    byTestId('consents').replaceChildren(el('li', {}, 'Only the owner manages operator permissions.'));
    return;
  }
  const { consents } = await ctx.api('GET', `${path(eid)}/consents`);
  byTestId('consents').replaceChildren(
    ...(consents.length === 0 ? [el('li', {}, 'No permissions given.')] : []),
    ...consents.map((consent) =>
      el(
        'li',
        { 'data-testid': 'consent', 'data-jti': consent.jti, 'data-state': consent.state, 'data-mno': consent.mnoId },
        el('span', {}, `${consent.mnoId} may ${consent.operations.map((op) => OPERATION_WORDS[op] ?? op).join(', ')} · ${CONSENT_STATE_WORDS[consent.state] ?? consent.state} · until ${when(consent.expiresAt)}${consent.givenByRegistry ? ' · for a move or sale you asked for' : ''}`),
        consent.state === 'active' ? el('button', { type: 'button', 'data-testid': 'consent-revoke', 'data-jti': consent.jti, 'aria-label': `Withdraw ${consent.mnoId}'s permission` }, 'Withdraw') : null,
      ),
    ),
  );
}

async function renderSettings(ctx, device) {
  byTestId('settings-json').value = JSON.stringify(device?.settings ?? {}, null, 2);
  const { snapshots } = await ctx.api('GET', '/me/settings-snapshots');
  fillSelect(byTestId('snapshot-select'), snapshots.map((snapshot) => ({ value: snapshot.id, label: `${snapshot.model}, kept ${when(snapshot.createdAt)}` })), 'No kept settings');
}

/** Fills the panels for `eid` (null: none). `onlyProfiles`: the operators' answer just arrived. */
export async function loadManage(ctx, eid, { onlyProfiles = false } = {}) {
  if (!eid) return resetManage();
  renderProfiles(ctx, eid);
  if (onlyProfiles) return undefined;
  const changed = eid !== currentEid;
  currentEid = eid;
  const device = ctx.devices().get(eid);
  renderPeople(ctx, device);
  if (operators.length === 0) operators = (await ctx.api('GET', '/operators')).operators;
  fillSelect(byTestId('consent-mno'), operators.map((mno) => ({ value: mno.mnoId, label: mno.mnoId })), 'No operators');
  fillSelect(byTestId('port-recipient'), operators.filter((mno) => mno.connected).map((mno) => ({ value: mno.mnoId, label: mno.mnoId })), 'No operators');
  if (changed) byTestId('activity').replaceChildren();
  try {
    await Promise.all([renderConsents(ctx, eid, device?.role), renderSettings(ctx, device)]);
  } catch (error) {
    ctx.showError(error, 'consent');
  }
  return undefined;
}

function saveTransferDraft() {
  const draft = { eid: byTestId('device-select').value, subscription: byTestId('transfer-subscription').value, profile: byTestId('transfer-profile').value };
  sessionStorage.setItem(DRAFT_KEY, JSON.stringify(draft));
  return draft;
}

/** After the step-up: the same device, subscription and profile chosen again, not resubmitted. */
export function restoreTransferDraft(ctx) {
  let draft = null;
  try {
    draft = JSON.parse(sessionStorage.getItem(DRAFT_KEY) ?? 'null');
  } catch {
    draft = null;
  }
  sessionStorage.removeItem(DRAFT_KEY);
  if (!draft) return;
  if (ctx.devices().has(draft.eid)) {
    byTestId('device-select').value = draft.eid;
    void loadManage(ctx, draft.eid);
  }
  if (draft.subscription === 'leave' || draft.subscription === 'pass') byTestId('transfer-subscription').value = draft.subscription;
  const profile = byTestId('transfer-profile');
  if (typeof draft.profile === 'string' && draft.profile && ![...profile.options].some((option) => option.value === draft.profile)) {
    // The operators' answer may still be on its way: keep the choice offered until it comes.
    profile.prepend(el('option', { value: draft.profile }, `…${draft.profile.slice(-4)} (checking)`));
  }
  if (typeof draft.profile === 'string') profile.value = draft.profile;
  byTestId('transfer-submit').focus();
}

export function bindManage(ctx) {
  const { api, action } = ctx;
  byTestId('device-select').addEventListener('change', (event) => void loadManage(ctx, event.target.value));

  byTestId('grant-form').addEventListener('submit', action('grant', 'Giving access…', async (event) => {
    const { iss, sub, role } = formValues(event.target);
    await api('POST', `${path(ctx.selectedEid())}/grants`, { role, iss, sub });
    byTestId('grant-sub').value = '';
    return `Added ${sub} as ${role}.`;
  }));
  byTestId('people').addEventListener('click', (event) => {
    const button = event.target.closest('[data-testid="person-remove"]');
    if (button) void action('grant', 'Removing access…', async () => (await api('DELETE', `/grants/${encodeURIComponent(button.dataset.grant)}`), 'Access removed.'))();
  });

  byTestId('group-form').addEventListener('submit', action('group', 'Creating the household…', async (event) => {
    const { name, member } = formValues(event.target);
    const eid = ctx.selectedEid();
    const group = await api('POST', '/groups', { name });
    await api('POST', `/groups/${encodeURIComponent(group.id)}/devices`, { eid });
    if (member) await api('POST', `/groups/${encodeURIComponent(group.id)}/members`, { iss: byTestId('grant-iss').value, sub: member, role: 'user' });
    event.target.reset();
    return `Household ${name} created.`;
  }));

  byTestId('consent-form').addEventListener('submit', action('consent', 'Giving permission…', async (event) => {
    const form = event.target;
    const operations = [...form.querySelectorAll('input[name="operations"]:checked')].map((box) => box.value);
    const { mnoId, expiresInSeconds } = formValues(form);
    await api('POST', `${path(ctx.selectedEid())}/consents`, { mnoId, operations, expiresInSeconds: Number(expiresInSeconds) });
    byTestId('consent-given').hidden = false;
    return `Permission given to ${mnoId}.`;
  }));
  byTestId('consents').addEventListener('click', (event) => {
    const button = event.target.closest('[data-testid="consent-revoke"]');
    if (button) void action('consent', 'Withdrawing…', async () => (await api('DELETE', `/consents/${encodeURIComponent(button.dataset.jti)}`), 'Permission withdrawn.'))();
  });

  byTestId('transfer-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    ctx.clearError('transfer');
    byTestId('transfer-step-up-box').hidden = true;
    ctx.setStatus('Starting the transfer…', 'busy');
    try {
      const { subscription, profile } = formValues(event.target);
      const [mnoId, iccid] = profile ? profile.split('|') : [];
      const body = { subscription, ...(subscription === 'leave' && mnoId ? { mnoId, iccid } : {}) };
      const result = await api('POST', `${path(ctx.selectedEid())}/transfers`, body);
      byTestId('transfer-code').textContent = String(result?.transferCode ?? '');
      byTestId('transfer-expires').textContent = String(result?.expiresAt ?? '');
      byTestId('transfer-result').hidden = false;
      ctx.setStatus('Transfer started: give the code to the buyer. It works once and expires.', 'ok');
    } catch (error) {
      ctx.showError(error, 'transfer');
      if (error instanceof ApiError && error.stepUpRequired) {
        byTestId('transfer-step-up-box').hidden = false;
        ctx.setStatus(`${error.code}: starting a transfer needs a fresh sign-in. Use “Sign in again”, then start the transfer again.`, 'error');
        byTestId('transfer-step-up').focus();
      }
    }
  });
  byTestId('transfer-step-up').addEventListener('click', () => ctx.startSignIn(true, { section: 'transfer', ...saveTransferDraft() })());

  byTestId('port-form').addEventListener('submit', action('port', 'Moving to the new operator… this can take a minute', async (event) => {
    const { pac, recipientMnoId, profileType } = formValues(event.target);
    const eid = ctx.selectedEid();
    const result = await api('POST', `${path(eid)}/port`, { pac: pac.toUpperCase(), recipientMnoId, profileType });
    const status = result?.functionExecutionStatus;
    if (status?.status !== 'Executed-Success') {
      const data = status?.statusCodeData ?? {};
      throw new ApiError(200, `ES2_${String(status?.status ?? 'Failed').toUpperCase()}`, `${data.subjectCode ?? ''}/${data.reasonCode ?? ''} ${data.message ?? ''}`.trim(), false);
    }
    event.target.reset();
    await ctx.refreshDevices({ profiles: true });
    return `Moved to ${recipientMnoId}.`;
  }));

  byTestId('suspend-form').addEventListener('submit', action('suspend', 'Blocking…', async (event) => {
    const { reason } = formValues(event.target);
    await api('POST', `${path(ctx.selectedEid())}/suspend`, { reason });
    return `Device suspended (${reason}).`;
  }));
  byTestId('reinstate-submit').addEventListener('click', action('suspend', 'Unblocking…', async () => {
    await api('POST', `${path(ctx.selectedEid())}/reinstate`);
    return 'Device unblocked.';
  }));

  byTestId('settings-form').addEventListener('submit', action('settings', 'Saving settings…', async (event) => {
    let settings;
    try {
      settings = JSON.parse(formValues(event.target).settings || '{}');
    } catch {
      settings = null;
    }
    if (!settings || typeof settings !== 'object' || Array.isArray(settings)) throw new ApiError(0, 'ERR_PORTAL_BAD_SETTINGS', 'not a JSON object', false);
    await api('PUT', `${path(ctx.selectedEid())}/settings`, settings);
    return 'Settings saved.';
  }));
  byTestId('snapshot-apply').addEventListener('click', action('settings', 'Applying kept settings…', async () => {
    const snapshotId = byTestId('snapshot-select').value;
    if (!snapshotId) throw new ApiError(0, 'ERR_OWNER_NOT_FOUND', 'no kept settings', false);
    await api('POST', `${path(ctx.selectedEid())}/settings/apply`, { snapshotId });
    return 'Kept settings applied.';
  }));

  byTestId('activity-refresh').addEventListener('click', action('activity', 'Loading activity…', async () => {
    const { events } = await api('GET', `${path(ctx.selectedEid())}/audit`);
    const shown = events.filter((row) => !/\.(read|list)$/.test(row.action));
    byTestId('activity').replaceChildren(
      ...shown.map((row) => {
        const who = row.actor?.kind === 'owner' ? row.actor.sub : row.actor?.clientId ?? row.actor?.kind ?? 'registry';
        const outcome = row.outcome === 'ok' ? '' : ` (refused: ${row.outcome})`;
        return el('li', { 'data-testid': 'activity-item', 'data-action': row.action, 'data-outcome': row.outcome }, el('time', { datetime: row.at }, when(row.at)), ` ${who} ${ACTIVITY_WORDS[row.action] ?? row.action}${outcome}`);
      }),
    );
    return `${shown.length} events.`;
  }));
}
