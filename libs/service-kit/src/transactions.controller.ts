/**
 * `GET /transactions`, `GET /transactions/{functionCallIdentifier}` and its Server-Sent Events stream
 * `GET /transactions/{id}/events` (issue 13; docs/services.md "Transactions"), the same on the SM-DP (ES2
 * calls) and the SM-SR (ES4 calls): an MNO follows its own calls with its API key. Another MNO's call id is
 * not found (404), no or a wrong key is 401.
 */
import { Controller, Get, Headers, HttpException, Inject, Param, Query, Res, type Type } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { provenMno, type MnoOfApiKey } from './http-refusals';
import type { TransactionLog } from './transaction-log';

interface SseResponse {
  writeHead(status: number, headers: Record<string, string>): void;
  write(chunk: string): void;
  end(): void;
  on(event: 'close', listener: () => void): void;
}

export interface TransactionsControllerOptions {
  /** The provider tokens of the service's TransactionLog and its {@link MnoOfApiKey}. */
  logToken: string | symbol;
  mnoOfApiKeyToken: string | symbol;
  /** `ES2` or `ES4`: what the operations say they list. */
  iface: string;
  /** The service's error-code prefix, e.g. `ERR_SMDP`. */
  codePrefix: string;
}

export function transactionsController(options: TransactionsControllerOptions): Type<unknown> {
  const notFound = (id: string) => new HttpException({ error: { code: `${options.codePrefix}_TRANSACTION_NOT_FOUND`, message: `no transaction ${id} of yours` } }, 404);

  @ApiTags(`Transactions (${options.iface}, MNO)`)
  @Controller('transactions')
  class TransactionsController {
    constructor(
      @Inject(options.logToken) private readonly log: TransactionLog,
      @Inject(options.mnoOfApiKeyToken) private readonly mnoOfApiKey: MnoOfApiKey,
    ) {}

    private mnoOf(apiKey: string | undefined): Promise<string> {
      return provenMno(this.mnoOfApiKey, apiKey, options.codePrefix);
    }

    @Get()
    @ApiOperation({
      summary: `The caller's recent ${options.iface} transactions, newest first (?eid=, ?state=running|done; ?interface=ES3 at the SM-SR: an SM-DP's ES3 calls serving the caller's downloads)`,
    })
    @ApiHeader({ name: 'X-API-Key', required: true })
    async list(@Headers('x-api-key') apiKey: string | undefined, @Query('eid') eid?: string, @Query('state') state?: string, @Query('interface') iface?: string) {
      const mnoId = await this.mnoOf(apiKey);
      return {
        transactions: this.log
          .list(mnoId, { ...(eid ? { eid } : {}), ...(state ? { state } : {}), ...(iface ? { interface: iface } : {}) })
          .map(({ hops: _hops, steps: _steps, ...summary }) => summary),
      };
    }

    @Get(':id')
    @ApiOperation({ summary: `One ${options.iface} transaction: state, steps with timings, final status, hops (SequenceHop[])` })
    @ApiHeader({ name: 'X-API-Key', required: true })
    async one(@Headers('x-api-key') apiKey: string | undefined, @Param('id') id: string) {
      const transaction = this.log.get(await this.mnoOf(apiKey), id);
      if (!transaction) throw notFound(id);
      return transaction;
    }

    @Get(':id/events')
    @ApiOperation({ summary: 'Server-Sent Events: `step` per downstream call as it starts and ends, then a last `step` with the final status' })
    @ApiHeader({ name: 'X-API-Key', required: true })
    async events(@Headers('x-api-key') apiKey: string | undefined, @Param('id') id: string, @Res() response: SseResponse): Promise<void> {
      const mnoId = await this.mnoOf(apiKey);
      // A client may open the stream of a call it sends at the same moment: give the call 2 s to arrive.
      for (let tries = 0; tries < 40 && !this.log.get(mnoId, id); tries += 1) await new Promise((resolve) => setTimeout(resolve, 50));
      if (!this.log.get(mnoId, id)) throw notFound(id);
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      response.write(': following\n\n');
      const unsubscribe = this.log.follow(mnoId, id, (event, data) => {
        response.write(`event: ${event === 'done' ? 'step' : event}\ndata: ${JSON.stringify(data)}\n\n`);
        if (event === 'done') response.end();
      });
      response.on('close', () => unsubscribe?.());
    }
  }
  return TransactionsController;
}
