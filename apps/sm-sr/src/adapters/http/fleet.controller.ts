/**
 * The operator console's reads on the SM-SR (docs/console.md): `GET /mno/fleet?q=` and
 * `GET /mno/fleet/{eid}`, and `GET /mno/fleet/{eid}/events`, a server-sent event stream of that device's
 * profile states as the MNO may see them (domain/fleet.ts). Authenticated like ES4, by the MNO's
 * `X-API-Key`; the stream is read with fetch (EventSource cannot send the header).
 */
import { Controller, Get, Headers, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FleetDevice, FleetView } from '../../domain/fleet';
import { SMSR_HTTP_AUTH, type SmSrHttpAuth } from './auth';

export const SMSR_FLEET = Symbol.for('rsp.smsr.fleet');

/** How often the stream re-reads the device [U: a console refresh rate; the registry read is cached in `single`]. */
const POLL_MS = 500;
/** Open streams per MNO [U: a console's tabs, not a feed; each one re-reads its device every POLL_MS]. */
export const MAX_STREAMS_PER_MNO = 16;
const EID = /^\d{32}$/;

interface StreamResponse {
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
  flushHeaders?(): void;
  write(chunk: string): boolean;
  end(): void;
}
interface ClosableRequest {
  on(event: 'close', listener: () => void): unknown;
}

/** A refusal answered here as `{ error: { code, message } }` (the global filter would turn it into an SGP.02 status). */
class FleetRefusal extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
const refuse = (status: number, code: string, message: string) => new FleetRefusal(status, code, message);

async function answer<T>(response: Pick<StreamResponse, 'status'>, work: () => Promise<T>): Promise<T | { error: { code: string; message: string } }> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof FleetRefusal)) throw error;
    response.status(error.httpStatus);
    return { error: { code: error.code, message: error.message } };
  }
}

@ApiTags('Operator console (MNO → SM-SR)')
@ApiHeader({ name: 'X-API-Key', required: true, description: 'the MNO API key (the same as for ES4)' })
@Controller('mno/fleet')
export class FleetController {
  constructor(
    @Inject(SMSR_FLEET) private readonly fleet: FleetView,
    @Inject(SMSR_HTTP_AUTH) private readonly auth: SmSrHttpAuth,
  ) {}

  private readonly openStreams = new Map<string, number>();

  private mno(apiKey: string | undefined): string {
    const mnoId = apiKey ? this.auth.mnos.identify(apiKey) : undefined;
    if (mnoId === undefined) throw refuse(401, 'ERR_SMSR_UNAUTHENTICATED', 'X-API-Key: an MNO API key');
    return mnoId;
  }

  private async device(apiKey: string | undefined, eid: string): Promise<{ mnoId: string; device: FleetDevice }> {
    const mnoId = this.mno(apiKey);
    const device = EID.test(eid) ? await this.fleet.device(mnoId, eid) : undefined;
    if (!device) throw refuse(404, 'ERR_SMSR_NOT_FOUND', 'no such eUICC registered');
    return { mnoId, device };
  }

  @Get()
  @ApiOperation({ summary: "The MNO's devices (those holding one of its profiles) and its profiles on them; q filters by EID, ICCID, device type, profile type or state" })
  list(@Headers('x-api-key') apiKey: string | undefined, @Query('q') query: string | undefined, @Res({ passthrough: true }) response: StreamResponse) {
    return answer(response, () => this.fleet.list(this.mno(apiKey), typeof query === 'string' ? query.slice(0, 64) : ''));
  }

  @Get(':eid')
  @ApiOperation({ summary: 'One registered device as the MNO may see it: only its own profiles (as ES4 GetEIS)' })
  one(@Headers('x-api-key') apiKey: string | undefined, @Param('eid') eid: string, @Res({ passthrough: true }) response: StreamResponse) {
    return answer(response, async () => (await this.device(apiKey, eid)).device);
  }

  @Get(':eid/events')
  @ApiOperation({ summary: 'text/event-stream: `event: device` with the device as the MNO sees it, on start and on every change' })
  async events(@Headers('x-api-key') apiKey: string | undefined, @Param('eid') eid: string, @Req() request: ClosableRequest, @Res() response: StreamResponse): Promise<void> {
    let found: { mnoId: string; device: FleetDevice };
    try {
      found = await this.device(apiKey, eid);
    } catch (error) {
      if (!(error instanceof FleetRefusal)) throw error;
      response.status(error.httpStatus);
      response.setHeader('Content-Type', 'application/json; charset=utf-8');
      response.write(JSON.stringify({ error: { code: error.code, message: error.message } }));
      response.end();
      return;
    }
    const { mnoId, device } = found;
    const open = this.openStreams.get(mnoId) ?? 0;
    if (open >= MAX_STREAMS_PER_MNO) {
      response.status(429);
      response.setHeader('Content-Type', 'application/json; charset=utf-8');
      response.write(JSON.stringify({ error: { code: 'ERR_SMSR_TOO_MANY_STREAMS', message: `at most ${MAX_STREAMS_PER_MNO} open device streams per MNO` } }));
      response.end();
      return;
    }
    this.openStreams.set(mnoId, open + 1);
    response.status(200);
    response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    response.setHeader('Cache-Control', 'no-store');
    response.setHeader('X-Accel-Buffering', 'no');
    response.flushHeaders?.();
    let last = '';
    const send = (current: FleetDevice | undefined) => {
      const data = JSON.stringify(current ?? { eid, platformType: null, profiles: [] });
      if (data === last) return;
      last = data;
      response.write(`event: device\ndata: ${data}\n\n`);
    };
    send(device);
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      this.fleet
        .device(mnoId, eid)
        .then(send, () => undefined)
        .finally(() => {
          busy = false;
        });
    }, POLL_MS);
    timer.unref();
    request.on('close', () => {
      clearInterval(timer);
      const left = (this.openStreams.get(mnoId) ?? 1) - 1;
      if (left > 0) this.openStreams.set(mnoId, left);
      else this.openStreams.delete(mnoId);
      response.end();
    });
  }
}
