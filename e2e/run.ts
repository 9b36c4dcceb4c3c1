/**
 * `npm run e2e -- --stack <name>`: the plan on a real control plane. Plans the stack offline, starts
 * the test control plane (or uses E2E_KUBECONFIG), installs every Helm release rendered by real Helm
 * and every planned object in the plan's order with strict server-side apply, waits for workloads,
 * and reports every rejected, pruned or rewritten field. The cluster is stopped afterwards, pass or fail.
 */
import * as fs from "node:fs";
import { CliError, runCli, stackOption, type CliSpec } from "../tools/cli";
import { planStack, mandatoryViolations, type Plan } from "../tools/planRunner";
import { buildTool, parseGoMod, TOOL_MODULES } from "./build";
import * as path from "node:path";
import { clusterDown, clusterUp, SERVICE_IP } from "./cluster";
import { HELD_PODS, LocalControllers } from "./controllers";
import { assertReconciled } from "./assertions";
import { assertAccess } from "./access";
import { assertHighlyAvailable } from "./availability";
import { assertAlertDelivery } from "./alerting";
import { assertWeightCache } from "./weightCache";
import { engineE2e } from "./engine";
import { deployPlan, IN_CLUSTER_BACKENDS, type DeployReport } from "./deploy";
import { clusterPki } from "./pki";
import { Kube } from "./kube";
import { fakeNodes } from "./nodes";
import { REPO } from "./paths";
import { stackConfig } from "./stack";
import { CONTROLLERS_DIR } from "./processes";

const SPEC: CliSpec = {
  name: "npm run e2e --",
  summary:
    "Deploy a stack's plan onto a real Kubernetes control plane built from upstream sources, and check what the API server does with it.",
  usage: ["--stack <name> [--stack <name> ...] [--keep]", "--all", "--engine", "--build"],
  options: {
    stack: { type: "string", multiple: true, description: "stack to deploy (repeatable)", value: "name" },
    all: { type: "boolean", description: "every stack (Pulumi.<stack>.yaml)" },
    keep: {
      type: "boolean",
      description: "leave the test cluster running afterwards (npm run cluster -- down to stop it)",
    },
    build: {
      type: "boolean",
      description: "only build (or find in the cache) every upstream binary, and print what each build took",
    },
    engine: {
      type: "boolean",
      description:
        "the real Pulumi engine on the local stack: up, no-op up, rollout edits, policy pack, destroy",
    },
  },
  notes: [
    "E2E_KUBECONFIG=<file>: deploy to that cluster instead (e.g. kind); nothing is started or stopped.",
    "Binaries are built once from their Go modules into ~/.cache/inference-platform (INFERENCE_PLATFORM_E2E_CACHE).",
  ],
};

export function kubernetesVersion(): string {
  const mod = parseGoMod(fs.readFileSync(path.join(REPO, "e2e", "tools", "kubernetes", "go.mod"), "utf8"));
  return mod.requires.get("k8s.io/kubernetes") ?? "v1.34.4";
}

export interface StackResult {
  readonly stack: string;
  readonly seconds: { plan: number; cluster: number; deploy: number; total: number };
  readonly report: DeployReport;
}

const log = (line: string) => console.log(`  ${line}`);

export async function e2eStack(
  stack: string,
  opts: { keep?: boolean; kubeconfig?: string } = {},
): Promise<StackResult> {
  const t0 = Date.now();
  console.log(`== e2e ${stack}: planning`);
  let plan: Plan;
  try {
    plan = await planStack(stack, undefined, { revealSecrets: true });
  } catch (err) {
    throw new CliError(`stack ${stack}: the plan failed: ${(err as Error).message}`);
  }
  if (plan.conformance.errors.length > 0 || mandatoryViolations(plan).length > 0)
    throw new CliError(`stack ${stack}: the offline plan has errors (npm run plan -- --stack ${stack})`);
  const t1 = Date.now();
  const helm = buildTool("helm", log).bin["helm"]!;
  const name = `e2e-${stack}`;
  let kubeconfig = opts.kubeconfig;
  let controllers: LocalControllers | undefined;
  if (!kubeconfig) {
    console.log(`== e2e ${stack}: starting the control plane`);
    const state = await clusterUp(name, fakeNodes(stackConfig(stack)), log, HELD_PODS);
    kubeconfig = state.kubeconfig;
    controllers = new LocalControllers(
      path.join(state.dir, CONTROLLERS_DIR),
      clusterPki(state.pkiDir, SERVICE_IP),
      state.server,
      log,
    );
  }
  const t2 = Date.now();
  try {
    console.log(`== e2e ${stack}: deploying ${plan.resources.length} planned resources`);
    const report = await deployPlan(new Kube(kubeconfig), plan, {
      helm,
      kubeVersion: kubernetesVersion(),
      log,
      backends: controllers ?? IN_CLUSTER_BACKENDS,
    });
    const access = await assertAccess(new Kube(kubeconfig), plan);
    report.errors.push(...access.errors);
    report.notes.push(`${access.checked} access checks (SubjectAccessReview)`);
    if (stackConfig(stack).environment === "prod") {
      const namespaces = new Set(
        plan.resources
          .filter((r) => r.type === "kubernetes:helm.sh/v3:Release")
          .map((r) => String(r.inputs.namespace)),
      );
      const available = await assertHighlyAvailable(new Kube(kubeconfig), namespaces);
      report.errors.push(...available.errors);
      report.notes.push(`${available.checked} prod serving-path workloads checked for replicas and budgets`);
    }
    if (controllers) {
      const alerting = await assertAlertDelivery(new Kube(kubeconfig), plan);
      report.errors.push(...alerting.errors);
      if (alerting.checked > 0)
        report.notes.push(
          "Alertmanager config loaded by the real prometheus-operator routes to the platform's receiver",
        );
      report.notes.push(`real controllers: ${controllers.running().join(", ") || "none"}`);
      const reconciled = await assertReconciled(new Kube(kubeconfig), plan, { knativeRuns: true });
      report.errors.push(...reconciled.errors);
      report.notes.push(...reconciled.notes, `${reconciled.checked} reconciliation checks`);
      const cache = await assertWeightCache(new Kube(kubeconfig), plan);
      report.errors.push(...cache.errors);
      if (cache.checked > 0)
        report.notes.push(
          `${cache.checked} node weight cache checks (downloaders per pool node, predictors reading the copy)`,
        );
    }
    const t3 = Date.now();
    return {
      stack,
      report,
      seconds: {
        plan: (t1 - t0) / 1000,
        cluster: (t2 - t1) / 1000,
        deploy: (t3 - t2) / 1000,
        total: (t3 - t0) / 1000,
      },
    };
  } finally {
    if (!opts.keep) await controllers?.stop();
    if (!opts.kubeconfig && !opts.keep) await clusterDown(name);
    else if (!opts.kubeconfig) console.log(`  cluster ${name} left running: KUBECONFIG=${kubeconfig}`);
  }
}

export function printResult(r: StackResult): void {
  const { report } = r;
  console.log(
    `== e2e ${r.stack}: ${report.applied.releases} releases, ${report.applied.chartObjects} chart objects, ${report.applied.plannedObjects} planned objects applied; ` +
      `plan ${r.seconds.plan.toFixed(0)} s, cluster ${r.seconds.cluster.toFixed(0)} s, deploy ${r.seconds.deploy.toFixed(0)} s`,
  );
  for (const n of report.notes) console.log(`  note: ${n}`);
  for (const e of report.errors) console.log(`  ERROR ${e}`);
  console.log(
    `== e2e ${r.stack}: ${report.errors.length === 0 ? "PASSED" : `FAILED (${report.errors.length} error(s))`}`,
  );
}

if (require.main === module)
  runCli(SPEC, async (args) => {
    if (args.values.build) {
      // e.g. to warm a CI cache, or (with a fresh INFERENCE_PLATFORM_E2E_CACHE, GOCACHE and GOMODCACHE)
      // to measure what a new machine pays once.
      let total = 0;
      for (const name of Object.keys(TOOL_MODULES)) {
        const built = buildTool(name, (l) => console.log(`  ${l}`));
        total += built.seconds;
        console.log(
          `  ${name.padEnd(24)} ${built.seconds === 0 ? "cached" : `${(built.seconds / 60).toFixed(1)} min`}`,
        );
      }
      console.log(`== e2e build: ${(total / 60).toFixed(1)} min of builds`);
      return 0;
    }
    if (args.values.engine) {
      if (process.env.E2E_KUBECONFIG)
        throw new CliError("--engine starts its own control plane; unset E2E_KUBECONFIG", 2);
      const report = await engineE2e((l) => console.log(`  ${l}`));
      for (const s of report.steps)
        console.log(
          `  ${s.name.padEnd(36)} ${Object.entries(s.ops)
            .map(([op, n]) => `${op} ${n}`)
            .join(", ")} (${s.seconds.toFixed(0)} s)`,
        );
      for (const n of report.notes) console.log(`  note: ${n}`);
      for (const e of report.errors) console.log(`  ERROR ${e}`);
      console.log(
        `== e2e engine: ${report.errors.length === 0 ? "PASSED" : `FAILED (${report.errors.length} error(s))`}`,
      );
      if (!args.values.stack && !args.values.all) return report.errors.length > 0 ? 1 : 0;
      if (report.errors.length > 0) return 1;
    }
    const stacks = args.values.all
      ? fs
          .readdirSync(REPO)
          .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
          .filter((s): s is string => !!s)
          .sort()
      : ((args.values.stack as string[] | undefined) ?? []).map((s) => stackOption(s, { required: true }));
    if (stacks.length === 0) throw new CliError("name a stack with --stack <name>, or --all", 2);
    const kubeconfig = process.env.E2E_KUBECONFIG;
    let failed = 0;
    for (const stack of stacks) {
      const result = await e2eStack(stack, { keep: args.values.keep === true, kubeconfig });
      printResult(result);
      if (result.report.errors.length > 0) failed++;
    }
    return failed > 0 ? 1 : 0;
  });
