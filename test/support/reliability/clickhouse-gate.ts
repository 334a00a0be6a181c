/**
 * A ClickHouse HTTP gate for crash tests that must kill a process at an exact point of its work: a
 * proxy in front of the run's chdb-http server that forwards requests until one matching `closeAfter`
 * has been answered, then holds every later request (no answer, ever). The process is left blocked
 * right after that write became durable and before its next ClickHouse call, which is the moment the
 * test SIGKILLs it.
 *
 * Why not a timer or a log line: the steps of a retrain run follow each other within milliseconds,
 * so a kill timed from outside lands at a random step. With the gate the kill point is the write
 * itself, and the test can say which effects were durable when the process died.
 *
 * Requests are `@clickhouse/client` HTTP requests (lib/runtime/clickhouse/client.ts disables
 * compression): an insert names its table in the `query` URL parameter and carries its rows in the
 * body, so a rule sees both.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface GatedRequest {
  /** Table of an `INSERT INTO <table>` (URL `query` parameter), or null for any other request. */
  readonly insertInto: string | null;
  /** Request body as text (insert rows as JSONEachRow, or the SQL of a query). */
  readonly body: string;
}

export interface ClickHouseGate {
  /** CLICKHOUSE_URL for the gated process. */
  readonly url: string;
  /** Resolves once a request matching the rule was answered (the gate is closed from then on). */
  readonly closed: Promise<GatedRequest>;
  /** Requests forwarded, and requests held since the gate closed. */
  stats(): { readonly forwarded: number; readonly held: number };
  /** Stops the proxy and drops held connections (call after the process was killed). */
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A gate in front of `targetUrl` that closes after the first answered request `closeAfter` accepts. */
export async function clickHouseGate(targetUrl: string, closeAfter: (r: GatedRequest) => boolean): Promise<ClickHouseGate> {
  const target = new URL(targetUrl);
  let isClosed = false;
  let forwarded = 0;
  let held = 0;
  let resolveClosed!: (r: GatedRequest) => void;
  const closed = new Promise<GatedRequest>((r) => (resolveClosed = r));
  const sockets = new Set<Socket>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const body = await readBody(req);
      if (isClosed) {
        held++;
        return; // never answered: the caller blocks until it is killed
      }
      const query = new URL(req.url ?? '/', 'http://gate').searchParams.get('query') ?? '';
      const gated: GatedRequest = { insertInto: /^\s*INSERT\s+INTO\s+`?([\w.]+)`?/i.exec(query)?.[1] ?? null, body: body.toString('utf8') };
      const upstream = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (up) => {
          void readBody(up).then((answer) => {
            forwarded++;
            // Closed before the answer leaves: a request the caller sends the moment it has the
            // answer already finds the gate closed.
            if (!isClosed && closeAfter(gated)) {
              isClosed = true;
              resolveClosed(gated);
            }
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(answer);
          });
        },
      );
      upstream.on('error', (err) => {
        res.writeHead(502);
        res.end(`Code: 210. DB::Exception: gate: ${err.message} (NETWORK_ERROR)`);
      });
      upstream.end(body);
    })();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}${target.pathname === '/' ? '' : target.pathname}`,
    closed,
    stats: () => ({ forwarded, held }),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
