/**
 * Background processes of the test control plane: started detached (own process group) with their
 * output in log files, recorded by pid in the cluster's state file, and stopped by pid — the whole
 * group, SIGTERM then SIGKILL — whether the run passed or failed.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

export interface RunningProcess {
  readonly name: string;
  readonly pid: number;
  readonly log: string;
  readonly command: string[];
}

export function startProcess(
  name: string,
  command: string[],
  opts: { logDir: string; env?: Record<string, string>; cwd?: string },
): RunningProcess {
  fs.mkdirSync(opts.logDir, { recursive: true });
  const log = path.join(opts.logDir, `${name}.log`);
  const fd = fs.openSync(log, "a");
  const child = spawn(command[0]!, command.slice(1), {
    detached: true,
    stdio: ["ignore", fd, fd],
    env: { ...process.env, ...(opts.env ?? {}) },
    cwd: opts.cwd,
  });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command[0]})`);
  child.unref();
  return { name, pid: child.pid, log, command };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The argv of a live process (Linux /proc), or undefined where /proc cannot tell. */
function argvOf(pid: number): string[] | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return undefined;
  }
}

/**
 * Is the process we recorded still the one running under its pid? Pids are recycled (pid_max is
 * often 32768), so a pid from an old state file may now belong to anything — this very test run
 * included: only a live pid whose argv[0] is the binary we started counts.
 */
export function isRunning(
  p: Pick<RunningProcess, "pid"> & { readonly command?: readonly string[] },
): boolean {
  if (!isAlive(p.pid)) return false;
  if (!p.command || p.command.length === 0) return true;
  const argv = argvOf(p.pid);
  return argv === undefined || argv[0] === p.command[0];
}

/**
 * Stops a process we started (its whole process group: it was started detached, as the group's
 * leader): SIGTERM, up to `graceMs` to exit, then SIGKILL. A recycled pid is left alone.
 */
export async function stopProcess(
  p: Pick<RunningProcess, "pid"> & { readonly command?: readonly string[] },
  graceMs = 5000,
): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    if (!isRunning(p)) return;
    try {
      process.kill(-p.pid, sig);
    } catch {
      try {
        process.kill(p.pid, sig);
      } catch {
        // already gone
      }
    }
  };
  if (!isRunning(p)) return;
  signal("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isRunning(p) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  signal("SIGKILL");
}

/** Ports this process has handed out: the kernel may offer a closed port again before its user binds it. */
const handedOut = new Set<number>();

/**
 * A free TCP port on loopback (bound and released; the caller binds it right away), not handed out
 * before by this process. The kernel can return the same ephemeral
 * port to two probes in a row (a KEDA webhook once lost its port to its own health server that way).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.on("error", reject);
      srv.listen(0, "127.0.0.1", () => {
        const addr = srv.address();
        const p = typeof addr === "object" && addr ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** The last lines of a log, for error messages. */
export function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Where LocalControllers keeps its files inside a cluster's folder (and records what it spawned). */
export const CONTROLLERS_DIR = "controllers";

/** Records a spawned process in `<dir>/processes.json`, so `npm run cluster -- down` can stop it later. */
export function recordSpawned(dir: string, p: RunningProcess): void {
  const file = path.join(dir, "processes.json");
  fs.writeFileSync(file, `${JSON.stringify([...spawnedControllers(dir), p], null, 2)}\n`);
}

/** The processes recorded in `<dir>/processes.json` (none when the file is absent). */
export function spawnedControllers(dir: string): RunningProcess[] {
  const file = path.join(dir, "processes.json");
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as RunningProcess[]) : [];
}
