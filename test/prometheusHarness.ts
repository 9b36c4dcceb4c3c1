/**
 * A real Prometheus (Debian's `prometheus` package) on loopback, loaded with synthetic series through
 * `promtool tsdb create-blocks-from openmetrics`, for running the queries the stack emits.
 * Missing binaries fail the tests with how to install them; they are never skipped.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export interface Sample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

/** One series: name, labels and (timestamp seconds, value) points in time order. */
export interface Series {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

function requireBinary(name: string): string {
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
  if (!found)
    throw new Error(`${name} not found: install Debian's prometheus package (apt-get install -y prometheus)`);
  return found;
}

/** OpenMetrics text with every series contiguous (promtool requires that), ending with # EOF. */
export function toOpenMetrics(series: readonly Series[]): string {
  const lines: string[] = [];
  for (const s of series) {
    const labels = Object.entries(s.labels)
      .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)
      .join(",");
    for (const [t, v] of s.points) lines.push(`${s.name}{${labels}} ${v} ${t}`);
  }
  return `${lines.join("\n")}\n# EOF\n`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export class PrometheusServer {
  private constructor(
    readonly url: string,
    private readonly process: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(series: readonly Series[]): Promise<PrometheusServer> {
    const promtool = requireBinary("promtool");
    const prometheus = requireBinary("prometheus");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "prometheus-"));
    const input = path.join(dir, "series.om");
    fs.writeFileSync(input, toOpenMetrics(series));
    const data = path.join(dir, "data");
    const blocks = spawnSync(promtool, ["tsdb", "create-blocks-from", "openmetrics", "-q", input, data], {
      encoding: "utf8",
    });
    if (blocks.status !== 0) throw new Error(`promtool failed: ${blocks.stderr}`);
    fs.writeFileSync(path.join(dir, "prometheus.yml"), "global:\n  scrape_interval: 15s\n");
    const port = await freePort();
    const child = spawn(
      prometheus,
      [
        `--config.file=${path.join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${data}`,
        "--storage.tsdb.retention.time=3650d",
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, child, dir);
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) throw new Error(`prometheus exited: ${log.slice(-2000)}`);
      try {
        if ((await fetch(`${server.url}/-/ready`)).ok) return server;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    server.stop();
    throw new Error(`prometheus did not become ready: ${log.slice(-2000)}`);
  }

  /** A Prometheus that scrapes: started with a configuration of its own (scrape jobs, service discovery). */
  static async startWithConfig(config: string, binary?: string): Promise<PrometheusServer> {
    const prometheus = binary ?? requireBinary("prometheus");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "prometheus-"));
    fs.writeFileSync(path.join(dir, "prometheus.yml"), config);
    const port = await freePort();
    const child = spawn(
      prometheus,
      [
        `--config.file=${path.join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${path.join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, child, dir);
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) throw new Error(`prometheus exited: ${log.slice(-2000)}`);
      try {
        if ((await fetch(`${server.url}/-/ready`)).ok) return server;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    server.stop();
    throw new Error(`prometheus did not become ready: ${log.slice(-2000)}`);
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** Active targets with their final labels (after relabeling). */
  async targets(): Promise<Array<{ labels: Record<string, string>; scrapePool: string }>> {
    const body = (await (await fetch(`${this.url}/api/v1/targets?state=active`)).json()) as {
      data: { activeTargets: Array<{ labels: Record<string, string>; scrapePool: string }> };
    };
    return body.data.activeTargets;
  }

  /** An instant query at `time` (seconds): the vector's samples, or a scalar as one sample. */
  async query(query: string, time: number): Promise<Sample[]> {
    const url = `${this.url}/api/v1/query?${new URLSearchParams({ query, time: String(time) })}`;
    const body = (await (await fetch(url)).json()) as {
      status: string;
      error?: string;
      data: { resultType: string; result: unknown };
    };
    if (body.status !== "success") throw new Error(`query failed: ${body.error ?? "unknown"}: ${query}`);
    if (body.data.resultType === "scalar") {
      const [, v] = body.data.result as [number, string];
      return [{ metric: {}, value: Number(v) }];
    }
    return (body.data.result as Array<{ metric: Record<string, string>; value: [number, string] }>).map(
      (r) => ({
        metric: r.metric,
        value: Number(r.value[1]),
      }),
    );
  }

  stop(): void {
    this.process.kill("SIGTERM");
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

type Labels = Record<string, string>;

/** Synthetic series sampled at `times` (seconds): what scraping a steady workload would have stored. */
export function syntheticSeries(times: readonly number[]) {
  const start = times[0]!;
  const gauge = (name: string, labels: Labels, value: number): Series => ({
    name,
    labels,
    points: times.map((t) => [t, value] as const),
  });
  const counter = (name: string, labels: Labels, perSecond: number): Series => ({
    name,
    labels,
    points: times.map((t) => [t, perSecond * (t - start)] as const),
  });
  /** A histogram whose observations all fall in (lower, upper]. */
  const histogram = (
    name: string,
    labels: Labels,
    perSecond: number,
    lower: string,
    upper: string,
  ): Series[] => [
    counter(`${name}_bucket`, { ...labels, le: lower }, 0),
    counter(`${name}_bucket`, { ...labels, le: upper }, perSecond),
    counter(`${name}_bucket`, { ...labels, le: "+Inf" }, perSecond),
    counter(`${name}_count`, labels, perSecond),
  ];
  return { gauge, counter, histogram };
}
