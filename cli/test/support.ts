/** The CLI tests' tiny SGP.02-style HTTP service (port 0): records each request, answers canned bodies. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FunctionExecutionStatus } from '@rsp/contracts';
import { runRsp } from '../rsp';

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}
export interface Canned {
  status?: number;
  /** JSON body, or raw text when a string. */
  body: unknown;
  /** Never answer (for the timeout test). */
  hang?: boolean;
}

export const ok = (output: Record<string, unknown> = {}, status: FunctionExecutionStatus = { status: 'Executed-Success' }): Canned => ({
  body: { header: { functionExecutionStatus: status }, ...output },
});

export class FakeService {
  readonly requests: Recorded[] = [];
  next: Canned = ok();
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const received = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: (received ? JSON.parse(received) : {}) as Record<string, unknown> });
        const canned = this.next;
        if (canned.hang) return;
        const text = typeof canned.body === 'string' ? canned.body : JSON.stringify(canned.body);
        res.writeHead(canned.status ?? 200, { 'content-type': typeof canned.body === 'string' ? 'text/html' : 'application/json' });
        res.end(text);
      });
    });
    await new Promise<void>((done) => this.server?.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((done) => this.server?.close(() => done()));
  }
}


/** What one run of the CLI printed, and its exit code. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in process with `args` after the fixed `leading` ones (service URLs, an API key …). */
export async function runCli(leading: string[], args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runRsp([...leading, ...args], { stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text), env });
  return { code, stdout, stderr };
}
