/**
 * One device directory over the fleets of `npm start` (scripts/stack.ts starts them: an oven and a BBQ,
 * each with its own eUICC), for the device API.
 */
import type { DeviceDirectory } from './device-api';
import type { DeviceHandle, DeviceModel } from './device';
import type { Fleet } from './fleet';

/** One device directory over several fleets (one fleet per device model). */
export class CombinedDirectory implements DeviceDirectory {
  constructor(private readonly fleets: readonly Fleet[]) {}

  get size(): number {
    return this.fleets.reduce((sum, fleet) => sum + fleet.size, 0);
  }

  list(offset: number, limit: number): Array<{ eid: string; model: DeviceModel }> {
    return this.fleets.flatMap((fleet) => fleet.list(0, fleet.size)).slice(offset, offset + limit);
  }

  device(eid: string): DeviceHandle | undefined {
    return this.owner(eid)?.device(eid);
  }

  transmit(eid: string, apdu: Uint8Array): Buffer {
    // An unknown EID reaches the first fleet, whose pool answers with its UnknownCardError (404).
    return (this.owner(eid) ?? (this.fleets[0] as Fleet)).transmit(eid, apdu);
  }

  private owner(eid: string): Fleet | undefined {
    return this.fleets.find((fleet) => fleet.eids().includes(eid));
  }
}
