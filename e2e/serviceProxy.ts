/**
 * The cluster network the e2e does not have (no kube-proxy, no cluster DNS): an HTTP forward proxy that
 * a local controller uses (HTTP_PROXY) to reach a `<service>.<namespace>.svc:<port>` URL the platform
 * configured, forwarding to the local process that plays that Service. Only plain-HTTP in-cluster URLs
 * go through it (Go clients send https and loopback traffic direct).
 */
import * as http from "node:http";

export class ServiceProxy {
  private constructor(
    private readonly server: http.Server,
    readonly port: number,
    private readonly routes: Map<string, number>,
  ) {}

  static async start(): Promise<ServiceProxy> {
    const routes = new Map<string, number>();
    const server = http.createServer((req, res) => {
      const target = new URL(req.url ?? "/", "http://unknown");
      const local = routes.get(target.host) ?? routes.get(target.hostname);
      if (local === undefined) {
        res.writeHead(502).end(`no local service for ${target.host}`);
        return;
      }
      const forward = http.request(
        {
          host: "127.0.0.1",
          port: local,
          method: req.method,
          path: target.pathname + target.search,
          headers: { ...req.headers, host: target.host },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      forward.on("error", (e) => res.writeHead(502).end(String(e)));
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return new ServiceProxy(server, (server.address() as { port: number }).port, routes);
  }

  /** Routes `host[:port]` (e.g. kps-prometheus.monitoring.svc:9090) to a local port. */
  route(host: string, localPort: number): void {
    this.routes.set(host, localPort);
  }

  /** Environment for a process whose in-cluster http:// calls should go through the proxy. */
  env(): Record<string, string> {
    return { HTTP_PROXY: `http://127.0.0.1:${this.port}`, NO_PROXY: "127.0.0.1,localhost" };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
