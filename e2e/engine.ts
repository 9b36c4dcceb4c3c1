/**
 * The real Pulumi engine against the test control plane (`npm run e2e -- --engine`): the Pulumi CLI
 * (pkg/v3 v3.274.1), its Node.js language host and the Kubernetes provider plugin, built from their Go
 * modules, run the program for the local stack with a file backend and a passphrase secrets provider.
 * Each step asserts on what the engine reports (operations per resource):
 *   up from nothing, a second up that changes nothing, rollout edits made with `npm run rollout` previewed
 *   with --diff (only the intended in-place updates) then applied, the CrossGuard pack through the CLI
 *   (clean passes, a mandatory violation fails), and destroy leaving nothing of the platform behind.
 * The real KServe, KEDA and prometheus-operator controllers run while it does (LocalControllers); an
 * agent rewires the webhooks the releases install to them, as soon as Helm creates them.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildTool, PULUMI_KUBERNETES_VERSION } from "./build";
import { clusterDown, clusterUp, SERVICE_IP, type ClusterState } from "./cluster";
import { HELD_PODS, LocalControllers } from "./controllers";
import { Kube, type KubeObject } from "./kube";
import { fakeNodes } from "./nodes";
import { clusterDir, REPO } from "./paths";
import { clusterPki } from "./pki";
import { stackConfig } from "./stack";
import { sharedDir } from "../conformance/sharedDir";
import { LOCAL_CHARTS_ENV, PROVIDER_VERSION_ENV } from "../config/deployEnvironment";
import { CONTROLLERS_DIR } from "./processes";

const STACK = "local";
const CLUSTER = "e2e-engine";

export interface EngineStep {
  readonly name: string;
  readonly ops: Record<string, number>;
  readonly seconds: number;
}

export interface EngineReport {
  readonly steps: EngineStep[];
  readonly errors: string[];
  readonly notes: string[];
}

/** One operation of a preview or update, from the CLI's --json output. */
interface JsonStep {
  readonly op: string;
  readonly urn: string;
  readonly diffReasons?: string[];
}

const typeOf = (urn: string) => urn.split("::")[2] ?? urn;
const nameOf = (urn: string) => urn.split("::").pop() ?? urn;

/** The webhooks' and aggregated APIs' Services the local controllers serve, by chart. */
const LOCAL_CHART_DEPLOYMENTS: ReadonlyArray<{
  chart: string;
  release: string;
  namespace: string;
  deployment: string;
  needs?: string;
}> = [
  {
    chart: "kserve-resources",
    release: "kserve-resources",
    namespace: "kserve",
    deployment: "kserve-controller-manager",
    needs: "inferenceservice-config",
  },
  { chart: "keda", release: "keda", namespace: "keda", deployment: "keda-admission-webhooks" },
  { chart: "lws", release: "lws", namespace: "lws-system", deployment: "lws-controller-manager" },
  { chart: "istiod", release: "istiod", namespace: "istio-system", deployment: "istiod", needs: "istio" },
  {
    chart: "knative-operator",
    release: "knative-operator",
    namespace: "knative-operator",
    deployment: "knative-operator",
  },
  // Installed by the Knative operator (not a Helm release) once Pulumi creates the KnativeServing.
  {
    chart: "knative-serving",
    release: "knative-serving",
    namespace: "knative-serving",
    deployment: "webhook",
    needs: "config-observability",
  },
  {
    chart: "kube-prometheus-stack",
    release: "kube-prometheus-stack",
    namespace: "monitoring",
    deployment: "kps-operator",
  },
];

/**
 * Watches the cluster while the engine installs the releases: starts each chart's real controller as
 * soon as its objects exist, points the chart's webhooks and APIServices at it, and removes the webhooks
 * of components that cannot run here (no server would ever answer them; listed in the report).
 */
interface WebhookClient {
  clientConfig: { service?: { name: string; namespace: string }; url?: string };
}

class ClusterAgent {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  readonly notes = new Set<string>();
  readonly errors: string[] = [];
  private readonly starting = new Set<string>();
  private readonly startedSeen = new Map<string, number>();

  constructor(
    private readonly kube: Kube,
    private readonly controllers: LocalControllers,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      this.tick()
        .catch((err: unknown) => this.errors.push(`agent: ${(err as Error).message}`))
        .finally(() => (this.busy = false));
    }, 500);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    for (const c of LOCAL_CHART_DEPLOYMENTS) {
      if (this.starting.has(c.release)) continue;
      if (!(await this.kube.get("apps/v1", "Deployment", c.deployment, c.namespace))) continue;
      if (c.needs && !(await this.kube.get("v1", "ConfigMap", c.needs, c.namespace))) continue;
      this.starting.add(c.release);
      const live = await this.kube.list("apps/v1", "Deployment", { namespace: c.namespace });
      await this.controllers.startFor(c.release, c.chart, live, this.kube);
    }
    for (const kind of ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]) {
      for (const cfg of await this.kube.list("admissionregistration.k8s.io/v1", kind)) {
        const hooks = (cfg as { webhooks?: Array<{ clientConfig: { service?: unknown } }> }).webhooks ?? [];
        if (!hooks.some((w) => w.clientConfig.service)) continue; // already rewired
        const wired = this.controllers.rewire("", cfg);
        if ("object" in wired && wired.object === cfg) continue; // reached through its Service
        if ("object" in wired) {
          await this.kube.mergePatch("admissionregistration.k8s.io/v1", kind, cfg.metadata.name, undefined, {
            webhooks: (wired.object as unknown as { webhooks: unknown[] }).webhooks,
          });
          continue;
        }
        if (this.servedLater(cfg) && !this.controllers.declines(cfg)) continue;
        await this.kube.delete("admissionregistration.k8s.io/v1", kind, cfg.metadata.name);
        this.notes.add(`${kind} ${cfg.metadata.name} removed: ${wired.skipped}`);
      }
    }
    for (const api of await this.kube.list("apiregistration.k8s.io/v1", "APIService")) {
      const svc = (api.spec as { service?: { name: string; namespace: string }; caBundle?: string }).service;
      if (!svc) continue;
      const wired = this.controllers.rewire("", api);
      if ("object" in wired) {
        if (
          (api.spec as { caBundle?: string }).caBundle !==
          (wired.object.spec as { caBundle?: string }).caBundle
        ) {
          await this.kube.mergePatch(
            "apiregistration.k8s.io/v1",
            "APIService",
            api.metadata.name,
            undefined,
            { spec: { caBundle: (wired.object.spec as { caBundle: string }).caBundle } },
          );
          await this.controllers.routeServices(this.kube, [api]);
        }
      } else if (!this.servedLater(api)) {
        await this.kube.delete("apiregistration.k8s.io/v1", "APIService", api.metadata.name);
        this.notes.add(`APIService ${api.metadata.name} removed: ${wired.skipped}`);
      }
    }
    // Only now may the started releases' pods report Ready: `helm --wait` ends on that, and the next
    // resource Pulumi creates goes through these webhooks (a Ready pod with its webhook still aimed at an
    // endpoint-less Service fails that create: "no endpoints available for service ...").
    for (const release of this.controllers.startedReleases())
      if (await this.webhooksReach(release)) await this.controllers.markStartedReady(release, this.kube);
  }

  /**
   * Every Service the release serves is named by some webhook or APIService (Helm creates them right
   * after the Deployment), and none still points at the Service rather than the local server.
   */
  private async webhooksReach(release: string): Promise<boolean> {
    const services = this.controllers.servicesOf(release);
    const caBundle = this.controllers.caBundle();
    const refs: Array<{ service: { name: string; namespace: string }; wired: boolean }> = [];
    for (const kind of ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"])
      for (const cfg of await this.kube.list("admissionregistration.k8s.io/v1", kind))
        for (const w of (cfg as { webhooks?: WebhookClient[] }).webhooks ?? [])
          if (w.clientConfig.service) refs.push({ service: w.clientConfig.service, wired: false });
          else if (w.clientConfig.url)
            refs.push({ service: { name: w.clientConfig.url, namespace: "" }, wired: true });
    for (const api of await this.kube.list("apiregistration.k8s.io/v1", "APIService")) {
      const spec = api.spec as { service?: { name: string; namespace: string }; caBundle?: string };
      if (spec.service) refs.push({ service: spec.service, wired: spec.caBundle === caBundle });
    }
    const names = (s: { service: string; namespace: string }) =>
      refs.filter((r) => r.service.name === s.service && r.service.namespace === s.namespace);
    const unwired = services.some((s) => !this.controllers.isRouted(s) && names(s).some((r) => !r.wired));
    const urls = refs.filter((r) => r.wired && r.service.namespace === "").map((r) => r.service.name);
    const named = services.every(
      (s) => names(s).length > 0 || urls.some((u) => u.includes(`:${this.controllers.portOf(s)}/`)),
    );
    // A release whose chart registers no webhook for a served Service (values turned them off) would
    // otherwise never be Ready: after a grace period, unnamed is taken as "none coming".
    const since = this.startedSeen.get(release) ?? Date.now();
    this.startedSeen.set(release, since);
    return !unwired && (named || Date.now() - since > 15_000);
  }

  /** A webhook or API of a chart whose real controller this agent starts (maybe not serving yet): keep it. */
  private servedLater(obj: KubeObject): boolean {
    const services = [
      ...(
        (obj as { webhooks?: Array<{ clientConfig: { service?: { namespace: string } } }> }).webhooks ?? []
      ).map((w) => w.clientConfig.service),
      (obj.spec as { service?: { namespace: string } } | undefined)?.service,
    ].filter((s): s is { namespace: string } => !!s);
    return services.some((s) => LOCAL_CHART_DEPLOYMENTS.some((c) => c.namespace === s.namespace));
  }
}

interface Workspace {
  readonly project: string;
  readonly env: NodeJS.ProcessEnv;
  readonly pulumi: string;
}

/** A copy of the project (git's files; node_modules shared), a Pulumi home with the built plugins, a file backend. */
function workspace(state: ClusterState): Workspace {
  const root = path.join(clusterDir(CLUSTER), "engine");
  fs.rmSync(root, { recursive: true, force: true });
  const project = path.join(root, "project");
  for (const file of execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
    cwd: REPO,
    encoding: "utf8",
  })
    .split("\n")
    .filter(Boolean)) {
    const from = path.join(REPO, file);
    if (!fs.existsSync(from)) continue;
    fs.mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
    fs.copyFileSync(from, path.join(project, file));
  }
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(project, "node_modules"));
  if (fs.existsSync(path.join(REPO, "policy", "node_modules")))
    fs.symlinkSync(path.join(REPO, "policy", "node_modules"), path.join(project, "policy", "node_modules"));
  const cli = buildTool("pulumi");
  const host = buildTool("pulumi/language-nodejs");
  const provider = buildTool("pulumi-kubernetes");
  // The CLI finds the language host next to itself; Node 22 (this process's) first on PATH for the host.
  const binDir = path.join(root, "bin");
  fs.mkdirSync(binDir, { recursive: true });
  // Hard links, not symlinks: the CLI looks for the language host beside its own (unresolved) path.
  fs.linkSync(cli.bin["pulumi"]!, path.join(binDir, "pulumi"));
  fs.linkSync(host.bin["pulumi-language-nodejs"]!, path.join(binDir, "pulumi-language-nodejs"));
  // The local stack names kubeconfig context kind-inference: a kubeconfig for this cluster with that name.
  const kc = JSON.parse(fs.readFileSync(state.kubeconfig, "utf8")) as {
    contexts: Array<{ name: string }>;
    "current-context": string;
  };
  kc.contexts[0]!.name = "kind-inference";
  kc["current-context"] = "kind-inference";
  const kubeconfig = path.join(root, "kubeconfig");
  fs.writeFileSync(kubeconfig, JSON.stringify(kc), { mode: 0o600 });
  fs.mkdirSync(path.join(root, "state"), { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: [path.dirname(process.execPath), binDir, process.env.PATH].join(path.delimiter),
    PULUMI_HOME: path.join(root, "home"),
    PULUMI_BACKEND_URL: `file://${path.join(root, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: "e2e",
    PULUMI_SKIP_UPDATE_CHECK: "1",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
    KUBECONFIG: kubeconfig,
    [LOCAL_CHARTS_ENV]: path.join(sharedDir(), "helm-charts"),
    [PROVIDER_VERSION_ENV]: PULUMI_KUBERNETES_VERSION,
  };
  execFileSync(
    path.join(binDir, "pulumi"),
    [
      "plugin",
      "install",
      "resource",
      "kubernetes",
      PULUMI_KUBERNETES_VERSION,
      "--file",
      provider.bin["pulumi-resource-kubernetes"]!,
    ],
    { env, stdio: "ignore" },
  );
  return { project, env, pulumi: path.join(binDir, "pulumi") };
}

function run(
  ws: Workspace,
  cmd: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ws.project, env: ws.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * The steps of a `pulumi preview --json` (one JSON document) or `up` / `destroy --json` output (one
 * engine event per line: resourcePreEvent / resOutputsEvent carry each step's operation and URN).
 */
export function stepsOf(stdout: string): JsonStep[] {
  const text = stdout.trim();
  if (text.startsWith("{") && !text.includes("\n{")) {
    const parsed = JSON.parse(text) as { steps?: JsonStep[] };
    if (parsed.steps) return parsed.steps;
  }
  const steps = new Map<string, JsonStep>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    const event = JSON.parse(line) as {
      steps?: JsonStep[];
      resourcePreEvent?: { metadata: JsonStep };
      resOutputsEvent?: { metadata: JsonStep };
    };
    for (const s of event.steps ?? []) steps.set(`${s.urn} ${s.op}`, s);
    const m = event.resOutputsEvent?.metadata ?? event.resourcePreEvent?.metadata;
    if (m)
      steps.set(`${m.urn}`, {
        op: m.op,
        urn: m.urn,
        ...(m.diffReasons ? { diffReasons: m.diffReasons } : {}),
      });
  }
  if (steps.size === 0) throw new Error(`no steps in the CLI's JSON output: ${text.slice(0, 500)}`);
  return [...steps.values()];
}

function countOps(steps: readonly JsonStep[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of steps) out[s.op] = (out[s.op] ?? 0) + 1;
  return out;
}

export async function engineE2e(log: (line: string) => void = () => undefined): Promise<EngineReport> {
  const errors: string[] = [];
  const notes: string[] = [];
  const steps: EngineStep[] = [];
  const state = await clusterUp(CLUSTER, fakeNodes(stackConfig(STACK)), log, HELD_PODS);
  const kube = new Kube(state.kubeconfig);
  const controllers = new LocalControllers(
    path.join(state.dir, CONTROLLERS_DIR),
    clusterPki(state.pkiDir, SERVICE_IP),
    state.server,
    log,
  );
  const agent = new ClusterAgent(kube, controllers);
  agent.start();
  try {
    const ws = workspace(state);
    const pulumi = (args: string[]) => run(ws, ws.pulumi, [...args, "--stack", STACK, "--non-interactive"]);
    const init = await run(ws, ws.pulumi, [
      "stack",
      "init",
      STACK,
      "--secrets-provider",
      "passphrase",
      "--non-interactive",
    ]);
    if (init.code !== 0) throw new Error(`pulumi stack init: ${init.stderr || init.stdout}`);

    /** One engine operation, its steps recorded; `expect` checks them. */
    const step = async (name: string, args: string[], expect: (s: JsonStep[]) => string | undefined) => {
      const t0 = Date.now();
      log(`engine: ${name}`);
      const r = await pulumi([...args, "--json"]);
      const seconds = (Date.now() - t0) / 1000;
      if (r.code !== 0) {
        errors.push(
          `${name}: pulumi ${args.join(" ")} failed (exit ${r.code}): ${engineErrors(r.stdout + r.stderr)}`,
        );
        return [];
      }
      let s: JsonStep[] = [];
      try {
        s = stepsOf(r.stdout);
      } catch (err) {
        errors.push(`${name}: ${(err as Error).message}`);
      }
      steps.push({ name, ops: countOps(s), seconds });
      const problem = expect(s);
      if (problem) errors.push(`${name}: ${problem}`);
      return s;
    };
    const noReplace = (s: JsonStep[]) => {
      const bad = s.filter((x) => /replace|delete-replaced/.test(x.op));
      return bad.length
        ? `replaces ${bad.map((x) => `${typeOf(x.urn)} ${nameOf(x.urn)}`).join(", ")}`
        : undefined;
    };
    const only = (s: JsonStep[], allowed: Record<string, (urn: string) => boolean>) => {
      // "read": the gateway Service the program reads for its ingressEndpoint output, every run.
      const unexpected = s.filter(
        (x) => x.op !== "same" && x.op !== "read" && !(allowed[x.op]?.(x.urn) ?? false),
      );
      return unexpected.length > 0
        ? `unexpected ${unexpected.map((x) => `${x.op} ${typeOf(x.urn)} ${nameOf(x.urn)}${x.diffReasons ? ` (${x.diffReasons.join(",")})` : ""}`).join("; ")}`
        : noReplace(s);
    };
    const rollout = async (args: string[]) => {
      const r = await run(ws, process.execPath, [
        "--import",
        "tsx",
        path.join(ws.project, "tools", "rollout.ts"),
        ...args,
        "--stack",
        STACK,
      ]);
      if (r.code !== 0) throw new Error(`npm run rollout -- ${args.join(" ")}: ${r.stderr}`);
    };
    const named = (type: string, name: string) => (urn: string) =>
      typeOf(urn).endsWith(type) && nameOf(urn).includes(name);

    await step("up (from nothing)", ["up", "--yes", "--skip-preview"], (s) =>
      s.some((x) => x.op === "create") ? noReplace(s) : "created nothing",
    );
    await step("up again (no change)", ["up", "--yes", "--skip-preview"], (s) => only(s, {}));

    // A Standard-mode rollout of churn-xgb, edit by edit.
    const vs = named("VirtualService", "churn-xgb");
    await rollout(["start", "churn-xgb", "--storage-uri", "gs://kfserving-examples/models/xgboost/iris-2"]);
    await step("preview after rollout start", ["preview", "--diff"], (s) =>
      only(s, { create: (u) => nameOf(u).includes("churn-xgb-canary"), update: vs }),
    );
    await step("up: rollout start", ["up", "--yes", "--skip-preview"], noReplace);
    for (const [edit, args] of [
      ["set 10", ["set", "churn-xgb", "10"]],
      ["step", ["step", "churn-xgb"]],
    ] as const) {
      await rollout([...args]);
      await step(`preview after rollout ${edit}`, ["preview", "--diff"], (s) => only(s, { update: vs }));
      await step(`up: rollout ${edit}`, ["up", "--yes", "--skip-preview"], noReplace);
    }
    await rollout(["promote", "churn-xgb"]);
    await step("preview after rollout promote", ["preview", "--diff"], (s) =>
      only(s, {
        update: (u) => vs(u) || named("InferenceService", "churn-xgb")(u),
        delete: (u) => nameOf(u).includes("churn-xgb-canary"),
      }),
    );
    await step("up: rollout promote", ["up", "--yes", "--skip-preview"], noReplace);
    // A Knative-mode canary: KServe's canaryTrafficPercent on the one InferenceService.
    await rollout(["set", "iris", "50"]);
    await step("preview after rollout set iris 50", ["preview", "--diff"], (s) =>
      only(s, { update: named("InferenceService", "iris") }),
    );
    await step("up: rollout set iris 50", ["up", "--yes", "--skip-preview"], noReplace);
    await rollout(["abort", "iris"]);
    await step("up: rollout abort iris", ["up", "--yes", "--skip-preview"], (s) =>
      only(s, { update: named("InferenceService", "iris") }),
    );

    // The CrossGuard pack through the CLI. The language host built here (v3.68.0, the newest the module
    // proxy serves) cannot start a policy-pack folder (RunPlugin), so the engine runs a wrapper executable
    // that starts the same pack with @pulumi/pulumi's own policy-pack runner.
    const wrapper = path.join(path.dirname(ws.project), "policy-pack");
    fs.writeFileSync(
      wrapper,
      `#!/bin/sh\ncd "${path.join(ws.project, "policy")}" && exec "${process.execPath}" "${path.join(ws.project, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack")}" "$1" .\n`,
      { mode: 0o755 },
    );
    const clean = await pulumi([
      "preview",
      "--policy-pack",
      wrapper,
      "--policy-pack-config",
      path.join(ws.project, "policy", "config", `${STACK}.json`),
    ]);
    if (clean.code !== 0)
      errors.push(`policy preview of the clean stack failed: ${(clean.stdout + clean.stderr).slice(-2000)}`);
    else notes.push("CrossGuard through the CLI: the local stack passes policy/config/local.json");
    // A mandatory violation: a floating image tag with images-pinned made mandatory.
    const strict = path.join(path.dirname(ws.project), "policy-strict.json");
    fs.writeFileSync(strict, JSON.stringify({ all: "advisory", "images-pinned": "mandatory" }));
    await run(ws, ws.pulumi, [
      "config",
      "set",
      "--path",
      "inference-platform:models[2].image",
      "kserve/xgbserver:latest",
      "--stack",
      STACK,
    ]);
    const violating = await pulumi(["preview", "--policy-pack", wrapper, "--policy-pack-config", strict]);
    if (violating.code === 0 || !/images-pinned/.test(violating.stdout + violating.stderr))
      errors.push(`a mandatory images-pinned violation did not fail the preview (exit ${violating.code})`);
    else
      notes.push(
        "CrossGuard through the CLI: a floating image tag with images-pinned mandatory fails the preview",
      );
    await run(ws, ws.pulumi, [
      "config",
      "rm",
      "--path",
      "inference-platform:models[2].image",
      "--stack",
      STACK,
    ]);

    await step("destroy", ["destroy", "--yes", "--skip-preview"], (s) =>
      s.some((x) => x.op === "delete") ? undefined : "deleted nothing",
    );
    const left = await platformObjectsLeft(kube);
    if (left.length > 0)
      errors.push(
        `pulumi destroy left ${left.length} object(s) of the platform: ${left.slice(0, 10).join(", ")}`,
      );
  } catch (err) {
    errors.push((err as Error).message);
  } finally {
    agent.stop();
    await controllers.stop();
    await clusterDown(CLUSTER);
  }
  return { steps, errors: [...errors, ...agent.errors], notes: [...notes, ...agent.notes] };
}

/** The error diagnostics of an engine run (its JSON events), or the output's tail. */
function engineErrors(output: string): string {
  const messages: string[] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const d = (
        JSON.parse(line) as { diagnosticEvent?: { severity: string; message: string; urn?: string } }
      ).diagnosticEvent;
      if (d?.severity === "error") messages.push(`${d.urn ? `${nameOf(d.urn)}: ` : ""}${d.message.trim()}`);
    } catch {
      // not an event line
    }
  }
  return messages.length > 0 ? messages.join(" | ").slice(0, 4000) : output.slice(-2000);
}

/** Objects labelled as the platform's, and Helm releases, still in the cluster. */
async function platformObjectsLeft(kube: Kube): Promise<string[]> {
  const out: string[] = [];
  const kinds: Array<[string, string]> = [
    ["v1", "Namespace"],
    ["v1", "ServiceAccount"],
    ["serving.kserve.io/v1beta1", "InferenceService"],
    ["networking.istio.io/v1", "VirtualService"],
    ["networking.istio.io/v1", "DestinationRule"],
  ];
  for (const [apiVersion, kind] of kinds) {
    const items = await kube
      .list(apiVersion, kind, { labelSelector: "app.kubernetes.io/part-of=inference-platform" })
      .catch(() => [] as KubeObject[]);
    out.push(
      ...items
        .filter((i) => !i.metadata.deletionTimestamp)
        .map((i) => `${kind} ${i.metadata.namespace ? `${i.metadata.namespace}/` : ""}${i.metadata.name}`),
    );
  }
  const releases = await kube.list("v1", "Secret", { labelSelector: "owner=helm" });
  out.push(
    ...releases.map(
      (r) => `Helm release ${r.metadata.namespace}/${r.metadata.labels?.name ?? r.metadata.name}`,
    ),
  );
  return out;
}
