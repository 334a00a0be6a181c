/**
 * `chdb-http`: the ClickHouse HTTP interface in front of the embedded engine.
 *
 * Why: libchdb (the real ClickHouse engine, 26.x, shipped in npm `chdb`) binds one data directory to
 * one process. driftwatch runs several processes (processors, API, scoring) that must see the same
 * tables, and tests SIGKILL those processes. This server owns the data directory and answers the
 * subset of the ClickHouse HTTP protocol that `@clickhouse/client` speaks, so every other process
 * uses the ordinary HTTP client with CLICKHOUSE_URL, exactly as against a ClickHouse server.
 *
 * Protocol subset (clickhouse-js 1.23 `client-common/dist/utils/url.js` toSearchParams):
 *  - GET/HEAD /ping -> "Ok.\n"
 *  - POST /?query_id&param_<name>=<text>&<settings>[&query=<sql>] with the SQL in the body, or, when
 *    `query` is in the URL (insert/exec with values), the data in the body.
 *  - errors: HTTP 500, body "Code: N. DB::Exception: ... (TYPE)", header X-ClickHouse-Exception-Code,
 *    which the client's parseError regex understands.
 * Each request is executed through chdb's own `Connection` implementation (chdb/connection), so
 * settings and parameter binding behave as in the in-process embedded mode.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { createChdbConnection } from 'chdb/connection';

const NON_SETTING_PARAMS = new Set(['query_id', 'database', 'query', 'session_id', 'role', 'user', 'password']);

export interface ChdbHttpOptions {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** Optional failure injection for reliability tests: while true, every request fails with 503. */
  readonly onRequest?: (req: IncomingMessage) => void;
}

export interface ChdbHttpServer {
  readonly server: Server;
  readonly url: string;
  setUnavailable(unavailable: boolean): void;
  close(): Promise<void>;
}

type Conn = ReturnType<typeof createChdbConnection>;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function streamToBuffer(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

function sendError(res: ServerResponse, err: unknown): void {
  const message = (err as Error)?.message ?? String(err);
  const code = /Code: (\d+)/.exec(message)?.[1] ?? '1001';
  const body = /Code: \d+/.test(message) ? message : `Code: ${code}. DB::Exception: ${message} (STD_EXCEPTION)`;
  res.writeHead(500, { 'Content-Type': 'text/plain; charset=UTF-8', 'X-ClickHouse-Exception-Code': code });
  res.end(body);
}

export async function startChdbHttp(options: ChdbHttpOptions): Promise<ChdbHttpServer> {
  const dir = resolve(options.dataDir);
  mkdirSync(dir, { recursive: true });
  const conn: Conn = createChdbConnection({ path: dir });
  await conn.command({ query: `CREATE DATABASE IF NOT EXISTS ${options.database}`, query_id: 'bootstrap' } as never);
  let unavailable = false;
  // One statement at a time: libchdb serialises parameterised queries process-wide anyway, and a
  // strict queue keeps `USE <db>` and the statement it prefixes together.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  // Query parameters travel in the URL; ClickHouse accepts URIs up to http_max_uri_size (1 MiB by
  // default), Node's default header limit is 16 KiB (which answers 431 to a long IN-list).
  const server = createServer({ maxHeaderSize: 1_048_576 }, async (req, res) => {
    try {
      options.onRequest?.(req);
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (unavailable) {
        res.writeHead(503, { 'Content-Type': 'text/plain', 'X-ClickHouse-Exception-Code': '210' });
        res.end('Code: 210. DB::Exception: chdb-http: service unavailable (fault injected). (NETWORK_ERROR)');
        return;
      }
      if (url.pathname === '/ping' || (req.method === 'GET' && url.pathname === '/' && !url.searchParams.has('query'))) {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('Ok.\n');
        return;
      }
      const body = await readBody(req);
      const query_params: Record<string, string> = {};
      const settings: Record<string, string> = {};
      for (const [k, v] of url.searchParams) {
        if (k.startsWith('param_')) query_params[k.slice(6)] = v;
        else if (!NON_SETTING_PARAMS.has(k)) settings[k] = v;
      }
      const database = url.searchParams.get('database') ?? 'default';
      const queryId = url.searchParams.get('query_id') ?? undefined;
      const urlQuery = url.searchParams.get('query');
      const result = await serial(async () => {
        await conn.command({ query: `USE ${/^[A-Za-z_][A-Za-z0-9_]*$/.test(database) ? database : 'default'}` } as never);
        // The HTTP server hands `param_x` text to the engine verbatim; chdb's binder would quote and
        // escape the already-formatted text a second time. A session-level `SET param_x = '<text>'`
        // (a ClickHouse string literal, so backslash and quote are escaped) keeps the text exact.
        const names = Object.keys(query_params);
        if (names.length > 0) {
          const sets = names.map((n) => {
            if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n)) throw new Error(`Code: 36. DB::Exception: invalid parameter name ${n} (BAD_ARGUMENTS)`);
            return `SET param_${n} = '${query_params[n]!.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
          });
          await conn.command({ query: sets.join('; ') } as never);
        }
        if (urlQuery !== null) {
          // INSERT ... FORMAT X with the rows in the body.
          const r = await conn.insert({ query: urlQuery, values: body, clickhouse_settings: settings, query_id: queryId } as never);
          return { data: Buffer.alloc(0), summary: (r as { summary?: unknown }).summary };
        }
        const r = (await conn.query({ query: body, clickhouse_settings: settings, query_id: queryId } as never)) as { stream: Readable };
        return { data: await streamToBuffer(r.stream), summary: undefined };
      });
      const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=UTF-8' };
      if (queryId) headers['X-ClickHouse-Query-Id'] = queryId;
      if (result.summary) headers['X-ClickHouse-Summary'] = JSON.stringify(result.summary);
      res.writeHead(200, headers);
      res.end(result.data);
    } catch (err) {
      sendError(res, err);
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host, () => ok());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    server,
    url: `http://${options.host}:${port}`,
    setUnavailable: (v) => {
      unavailable = v;
    },
    close: async () => {
      await new Promise<void>((ok) => server.close(() => ok()));
      await queue;
      await conn.close();
    },
  };
}
