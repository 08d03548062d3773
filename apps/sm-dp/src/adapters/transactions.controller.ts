/**
 * `GET /transactions`, `GET /transactions/{functionCallIdentifier}` and its Server-Sent Events stream
 * `GET /transactions/{id}/events` (issue 13; docs/services.md "Transactions"): an MNO follows its own ES2
 * calls with its API key. Another MNO's call id is not found (404), no key is 401.
 */
import { Controller, Get, Headers, HttpException, Inject, Param, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Es2Service } from '../domain/es2-service';
import { ES2_SERVICE, TRANSACTION_LOG } from './tokens';
import type { TransactionLog } from './transaction-log';

interface SseResponse {
  writeHead(status: number, headers: Record<string, string>): void;
  write(chunk: string): void;
  end(): void;
  on(event: 'close', listener: () => void): void;
}

@ApiTags('Transactions (MNO)')
@Controller('transactions')
export class TransactionsController {
  constructor(
    @Inject(ES2_SERVICE) private readonly es2: Es2Service,
    @Inject(TRANSACTION_LOG) private readonly log: TransactionLog,
  ) {}

  private async mnoOf(apiKey: string | undefined): Promise<string> {
    const requester = await this.es2.identify(apiKey);
    if (requester.kind !== 'proven') throw new HttpException({ error: { code: 'ERR_SMDP_UNAUTHENTICATED', message: 'X-API-Key of an MNO required' } }, 401);
    return requester.id;
  }

  @Get()
  @ApiOperation({ summary: "The caller's recent ES2 transactions, newest first (?eid=, ?state=running|done)" })
  @ApiHeader({ name: 'X-API-Key', required: true })
  async list(@Headers('x-api-key') apiKey: string | undefined, @Query('eid') eid?: string, @Query('state') state?: string) {
    const mnoId = await this.mnoOf(apiKey);
    return {
      transactions: this.log.list(mnoId, { ...(eid ? { eid } : {}), ...(state ? { state } : {}) }).map(({ hops: _hops, steps: _steps, ...summary }) => summary),
    };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One ES2 transaction: state, steps with timings, final status, hops (SequenceHop[])' })
  @ApiHeader({ name: 'X-API-Key', required: true })
  async one(@Headers('x-api-key') apiKey: string | undefined, @Param('id') id: string) {
    const transaction = this.log.get(await this.mnoOf(apiKey), id);
    if (!transaction) throw new HttpException({ error: { code: 'ERR_SMDP_TRANSACTION_NOT_FOUND', message: `no transaction ${id} of yours` } }, 404);
    return transaction;
  }

  @Get(':id/events')
  @ApiOperation({ summary: 'Server-Sent Events: `step` per ES3 call as it starts and ends, then `done` with the final status' })
  @ApiHeader({ name: 'X-API-Key', required: true })
  async events(@Headers('x-api-key') apiKey: string | undefined, @Param('id') id: string, @Res() response: SseResponse): Promise<void> {
    const mnoId = await this.mnoOf(apiKey);
    // A client may open the stream of a call it sends at the same moment: give the call 2 s to arrive.
    for (let tries = 0; tries < 40 && !this.log.get(mnoId, id); tries += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    if (!this.log.get(mnoId, id)) throw new HttpException({ error: { code: 'ERR_SMDP_TRANSACTION_NOT_FOUND', message: `no transaction ${id} of yours` } }, 404);
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    response.write(': following\n\n');
    const unsubscribe = this.log.follow(mnoId, id, (event, data) => {
      response.write(`event: ${event === 'done' ? 'step' : event}\ndata: ${JSON.stringify(data)}\n\n`);
      if (event === 'done') response.end();
    });
    response.on('close', () => unsubscribe?.());
  }
}
