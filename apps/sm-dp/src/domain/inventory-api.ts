/**
 * The MNO's inventory API (not an SGP.02 interface; SGP.02 leaves profile ordering out of band): load
 * profile types and subscriptions, or have subscriptions generated. Authenticated by X-API-Key like ES2;
 * answers carry a FunctionExecutionStatus header as ES2 does.
 */
import {
  arrayOf,
  executedSuccess,
  failed,
  object,
  optional,
  parse,
  policyRules,
  schema,
  STATUS_CODE,
  SUBSCRIPTION_STATES,
  toExecutionStatus,
  type FunctionResponse,
} from '@rsp/contracts';
import type { Inventory } from './inventory';
import { SMDP_STATUS } from './status-codes';

export interface InventoryOutcome {
  httpStatus: 200 | 401;
  body: FunctionResponse<Record<string, unknown>>;
}

const name = schema.string({ maxLength: 64, pattern: /^[\x20-\x7E]+$/, expected: 'a printable profile type name' });
const key16 = schema.string({ maxLength: 32, pattern: /^[0-9A-Fa-f]{32}$/, expected: '16 bytes as hex' });
const imsi = schema.string({ maxLength: 15, pattern: /^\d{6,15}$/, expected: 'an IMSI of 6..15 digits' });

const profileTypeInput = object({ name, template: optional(schema.hex(65536)), pol1: optional(policyRules), pol2: optional(policyRules) });
const subscriptionsInput = object({
  profileType: name,
  subscriptions: optional(arrayOf(object({ iccid: schema.iccid, imsi, ki: key16, opc: key16 }), { min: 1, max: 10_000 })),
  generate: optional(schema.integer(1, 10_000)),
  iccidPrefix: optional(schema.string({ maxLength: 12, pattern: /^89\d{0,10}$/, expected: 'digits starting 89, at most 12' })),
  imsiPrefix: optional(schema.string({ maxLength: 10, pattern: /^\d{5,10}$/, expected: 'an MCC+MNC prefix of 5..10 digits' })),
});
// A filter the list does not know is refused (1.6 / 2.1 naming it), not ignored: `?state=instaled` listing every subscription would mislead.
const subscriptionsQuery = object({ state: optional(schema.oneOf(SUBSCRIPTION_STATES)), profileType: optional(name) });

const ok = (output: Record<string, unknown> = {}): InventoryOutcome => ({ httpStatus: 200, body: { header: { functionExecutionStatus: executedSuccess() }, ...output } });

export class InventoryApi {
  constructor(private readonly inventory: Inventory) {}

  async putProfileType(apiKey: string | undefined, body: unknown): Promise<InventoryOutcome> {
    return this.guard(apiKey, async (mnoId) => {
      const input = parse(profileTypeInput, body);
      await this.inventory.putProfileType(mnoId, {
        name: input.name,
        ...(input.template ? { template: Buffer.from(input.template, 'hex') } : {}),
        ...(input.pol1 ? { pol1: input.pol1 } : {}),
        ...(input.pol2 ? { pol2: input.pol2 } : {}),
      });
      return ok({ name: input.name });
    });
  }

  async listProfileTypes(apiKey: string | undefined): Promise<InventoryOutcome> {
    return this.guard(apiKey, async (mnoId) => {
      const types = await this.inventory.listProfileTypes(mnoId);
      return ok({ profileTypes: types.map((type) => ({ name: type.name, pol1: this.inventory.pol1Of(type), pol2: type.pol2, templateBytes: type.template.length })) });
    });
  }

  /**
   * Loads the given subscriber records, or generates `generate` of them. Generated records (Ki, OPc in
   * clear) are in this response only, as an HSS provisioning file; the SM-DP keeps them sealed.
   */
  async addSubscriptions(apiKey: string | undefined, body: unknown): Promise<InventoryOutcome> {
    return this.guard(apiKey, async (mnoId) => {
      const input = parse(subscriptionsInput, body);
      if ((input.subscriptions === undefined) === (input.generate === undefined)) {
        const status = failed(STATUS_CODE.CONDITIONAL_ELEMENT_MISSING, 'subscriptions|generate');
        return { httpStatus: 200, body: { header: { functionExecutionStatus: status } } };
      }
      if (input.subscriptions) {
        const loaded = await this.inventory.addSubscriptions(mnoId, input.profileType, input.subscriptions);
        return ok({ loaded });
      }
      const generated = await this.inventory.generateSubscriptions(mnoId, input.profileType, input.generate ?? 0, {
        ...(input.iccidPrefix ? { iccidPrefix: input.iccidPrefix } : {}),
        ...(input.imsiPrefix ? { imsiPrefix: input.imsiPrefix } : {}),
      });
      return ok({ subscriptions: generated });
    });
  }

  async listSubscriptions(apiKey: string | undefined, query: { state?: string; profileType?: string }): Promise<InventoryOutcome> {
    return this.guard(apiKey, async (mnoId) => {
      const filter = parse(subscriptionsQuery, query);
      const subscriptions = await this.inventory.listSubscriptions(mnoId, {
        ...(filter.state ? { state: filter.state } : {}),
        ...(filter.profileType ? { profileType: filter.profileType } : {}),
      });
      return ok({ subscriptions });
    });
  }

  private async guard(apiKey: string | undefined, body: (mnoId: string) => Promise<InventoryOutcome>): Promise<InventoryOutcome> {
    const mno = apiKey ? await this.inventory.authenticate(apiKey) : undefined;
    if (!mno) return { httpStatus: 401, body: { header: { functionExecutionStatus: failed(SMDP_STATUS.REQUESTER_UNKNOWN) } } };
    try {
      return await body(mno.mnoId);
    } catch (error) {
      return { httpStatus: 200, body: { header: { functionExecutionStatus: toExecutionStatus(error) } } };
    }
  }
}
