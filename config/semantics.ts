/**
 * Rules across fields: what the schema alone cannot say. Each rule adds a problem with the key path,
 * what is wrong and why, so one run reports every mistake.
 */
import type { PlatformInput } from "./schema";
import type { ModelConfig, PlacedModels } from "../models/plannedModel";
import type { Problem } from "./problems";
import { amiTypeFor, poolGpu } from "../models/cluster/nodePools";
import { HPA_TRIGGERS, KEDA_TRIGGERS, KPA_TRIGGERS, isLlm, type ModelInput } from "../models/schema";
import { defaultDeploymentMode, resolveModel } from "../models/serving/resolve";
import { isStorageError, parseStorageUri } from "../models/serving/storage";
import { imagePinProblem } from "../models/serving/images";
import { MAX_MODEL_NAME_LENGTH } from "../models/names";
import { effectiveMaxStep } from "../models/rollout/schedule";
import { batchJobName } from "../models/serving/batchJobs";
import { MULTI_MODEL_RUNTIMES } from "../models/serving/trainedModels";
import { GIB } from "../models/capacity/memory";
import { nodeShape } from "../models/cluster/nodeShape";
import { networkProblems, stackZones } from "../models/cluster/network";
import { cpuMillis, quantityBytes } from "../models/serving/quantity";
import {
  autoscalingRangeProblems,
  batcherProblems,
  engineFlagProblems,
  scaleToZeroProblems,
  trainedModelStorageProblems,
} from "./servingRules";

const WORLD = "0.0.0.0/0";

/** Image pinning per model: floating tags are errors in prod and warnings elsewhere. */
function imagePinProblems(cfg: PlatformInput, severity: "error" | "warning"): Problem[] {
  return cfg.models.flatMap((model, i) =>
    [
      [`models[${i}].image`, model.image],
      [`models[${i}].rollout.candidate.image`, model.rollout?.candidate.image],
    ].flatMap(([path, image]) => {
      const problem = image ? imagePinProblem(image, cfg.environment) : undefined;
      return problem?.severity === severity ? [{ path: path!, message: problem.message }] : [];
    }),
  );
}

/** Problems that don't stop the plan but that users must see (logged as Pulumi warnings). */
export function checkWarnings(cfg: PlatformInput): Problem[] {
  return imagePinProblems(cfg, "warning");
}

export function checkSemantics(cfg: PlatformInput): Problem[] {
  const problems: Problem[] = [...imagePinProblems(cfg, "error"), ...alertProblems(cfg)];
  const add = (path: string, message: string) => problems.push({ path, message });
  const env = cfg.environment;

  // Environment and cluster mode.
  if (env === "local" && cfg.cluster.mode !== "existing")
    add(
      "cluster.mode",
      `the local stack runs on an existing cluster (kind, minikube, k3d); set cluster.mode: existing`,
    );
  if (cfg.cluster.mode === "existing") {
    if (!cfg.cluster.context && !cfg.secretNames.includes("kubeconfig")) {
      add(
        "cluster.context",
        `existing-cluster mode needs a kubeconfig context (cluster.context) or a secure kubeconfig (secrets.kubeconfig)`,
      );
    }
  } else {
    const ep = cfg.cluster.endpoint;
    if (!ep.privateAccess && !ep.publicAccess)
      add(
        "cluster.endpoint",
        "at least one of privateAccess and publicAccess must be true, or nobody can reach the API server",
      );
    if (ep.publicAccess) {
      ep.publicAccessCidrs.forEach((c, i) => {
        if (c === WORLD && env === "prod")
          add(
            `cluster.endpoint.publicAccessCidrs[${i}]`,
            `prod refuses a world-open API endpoint (${WORLD}); list your office/VPN CIDRs or set publicAccess: false`,
          );
      });
      if (ep.publicAccessCidrs.length === 0 && env === "prod")
        add(
          "cluster.endpoint.publicAccessCidrs",
          `prod needs the CIDRs allowed to reach the public endpoint (an empty list means ${WORLD}); or set publicAccess: false`,
        );
    }
    const sys = cfg.cluster.systemNodeGroup;
    if (sys.minSize > sys.maxSize)
      add("cluster.systemNodeGroup.minSize", `minSize (${sys.minSize}) exceeds maxSize (${sys.maxSize})`);
    if (sys.desiredSize !== undefined && (sys.desiredSize < sys.minSize || sys.desiredSize > sys.maxSize))
      add(
        "cluster.systemNodeGroup.desiredSize",
        `desiredSize (${sys.desiredSize}) must lie within [minSize, maxSize] = [${sys.minSize}, ${sys.maxSize}]`,
      );
    sys.instanceTypes.forEach((t, i) => {
      const ami = amiTypeFor("al2023", t, false);
      if (ami.error) add(`cluster.systemNodeGroup.instanceTypes[${i}]`, ami.error);
    });
  }
  if (cfg.network.availabilityZones) {
    const zones = cfg.network.availabilityZones;
    zones.forEach((z, i) => {
      if (!z.startsWith(cfg.region))
        add(`network.availabilityZones[${i}]`, `${z} is not in region ${cfg.region}`);
    });
    if (cfg.cluster.mode === "eks" && zones.length < 2)
      add("network.availabilityZones", "EKS needs subnets in at least 2 availability zones");
  }
  if (cfg.cluster.mode === "eks")
    for (const p of networkProblems({
      cidr: cfg.network.cidr,
      zones: stackZones(cfg),
      explicitZones: !!cfg.network.availabilityZones,
    }))
      add(p.path, p.message);

  // GPU pools.
  if (env === "local" && cfg.gpuPools.length > 0)
    add("gpuPools", "the local stack is CPU-only; remove gpuPools");
  const poolNames = new Set<string>();
  cfg.gpuPools.forEach((pool, i) => {
    const at = `gpuPools[${i}]`;
    if (poolNames.has(pool.name)) add(`${at}.name`, `duplicate pool name "${pool.name}"`);
    poolNames.add(pool.name);
    if (pool.minSize > pool.maxSize)
      add(`${at}.minSize`, `minSize (${pool.minSize}) exceeds maxSize (${pool.maxSize})`);
    if (
      pool.desiredSize !== undefined &&
      (pool.desiredSize < pool.minSize || pool.desiredSize > pool.maxSize)
    )
      add(
        `${at}.desiredSize`,
        `desiredSize (${pool.desiredSize}) must lie within [minSize, maxSize] = [${pool.minSize}, ${pool.maxSize}]`,
      );
    const gpuModels = new Set<string>();
    pool.instanceTypes.forEach((t, j) => {
      const ami = amiTypeFor(pool.os, t, true);
      if (ami.error) add(`${at}.instanceTypes[${j}]`, ami.error);
      const spec = poolGpu({ instanceTypes: [t] });
      if (spec) gpuModels.add(`${spec.model.name}x${spec.instance.gpus}`);
    });
    if (gpuModels.size > 1)
      add(
        `${at}.instanceTypes`,
        `all instance types of a pool must have the same GPU model and count (found ${[...gpuModels].join(", ")}); split them into several pools`,
      );
    if (
      (pool.efa || pool.placementGroup) &&
      !pool.instanceTypes.every((t) => poolGpu({ instanceTypes: [t] })?.instance.efa)
    ) {
      add(
        `${at}.efa`,
        "EFA and cluster placement groups are only offered for the largest sizes (g5/g6/g6e.48xlarge, p4d, p4de, p5, p5e, p5en)",
      );
    }
    if (pool.capacityType === "SPOT" && env === "prod")
      add(
        `${at}.capacityType`,
        "prod serves from on-demand capacity; spot GPU nodes are reclaimed with two minutes' notice mid-request",
      );
  });

  // Add-ons.
  const addons = cfg.addons;
  if (addons.istio.publicIngress && !addons.istio.jwt)
    add(
      "addons.istio.jwt",
      "a public ingress needs request authentication: set addons.istio.jwt (issuer, jwksUri)",
    );
  if (!addons.certManager.enabled)
    add(
      "addons.certManager.enabled",
      "KServe's webhooks need cert-manager certificates; cert-manager cannot be disabled",
    );
  if (cfg.models.length > 0 && !addons.istio.enabled)
    add(
      "addons.istio.enabled",
      "model traffic (ingress, canary and A/B routing, mTLS) goes through Istio; it cannot be disabled while models are declared",
    );

  // Models.
  const names = new Map<string, number>();
  cfg.models.forEach((model, i) => {
    const at = `models[${i}]`;
    const prev = names.get(model.name);
    if (prev !== undefined)
      add(
        `${at}.name`,
        `duplicate model name "${model.name}" (also models[${prev}]); names must be unique in a stack`,
      );
    names.set(model.name, i);
    if (model.name.length > MAX_MODEL_NAME_LENGTH)
      add(
        `${at}.name`,
        `"${model.name}" is ${model.name.length} characters; at most ${MAX_MODEL_NAME_LENGTH} so every derived name (e.g. <name>-predictor-00001-private, <name>-canary-predictor) fits Kubernetes' 63`,
      );

    const mode = defaultDeploymentMode(model);
    const llm = isLlm(model);

    // Storage.
    const uris: Array<[string, string]> = [];
    if (model.storageUri) uris.push([`${at}.storageUri`, model.storageUri]);
    if (model.rollout) uris.push([`${at}.rollout.candidate.storageUri`, model.rollout.candidate.storageUri]);
    (model.trainedModels ?? []).forEach((t, j) =>
      uris.push([`${at}.trainedModels[${j}].storageUri`, t.storageUri]),
    );
    model.batchJobs.forEach((j, k) => {
      uris.push([`${at}.batchJobs[${k}].input`, j.input], [`${at}.batchJobs[${k}].output`, j.output]);
    });
    for (const [path, uri] of uris) {
      const parsed = parseStorageUri(uri);
      if (isStorageError(parsed)) add(path, parsed.error);
      else if (
        parsed.scheme === "hf" &&
        model.hfTokenSecret &&
        !cfg.secretNames.includes(model.hfTokenSecret)
      ) {
        add(
          `${at}.hfTokenSecret`,
          `no secret "${model.hfTokenSecret}" under inference-platform:secrets (have: ${cfg.secretNames.join(", ") || "none"}); set it with pulumi config set --secret --path 'secrets.${model.hfTokenSecret}'`,
        );
      }
    }

    problems.push(...multiModelProblems(model, at, llm), ...batchJobProblems(model, at));

    // Runtime vs hardware.
    if (llm && !model.gpu)
      add(`${at}.gpu`, `${model.runtime} serves LLMs on NVIDIA GPUs; set gpu: {pool: <name>} or gpu: auto`);
    if (["sklearn", "xgboost", "lightgbm"].includes(model.runtime) && model.gpu)
      add(`${at}.gpu`, `${model.runtime} runs on CPU; remove gpu`);
    if (model.runtime === "triton" && !model.format)
      add(
        `${at}.format`,
        "Triton needs the model format of its repository: onnx, tensorrt, pytorch, tensorflow or triton",
      );
    if (model.runtime !== "triton" && model.format)
      add(`${at}.format`, `format applies to Triton only; ${model.runtime} has one format`);
    if (model.gpu && env === "local")
      add(`${at}.gpu`, "the local stack is CPU-only; remove gpu or deploy this model to dev");
    if (model.gpu && model.gpu !== "auto") {
      const gpu = model.gpu;
      if (!cfg.gpuPools.some((p) => p.name === gpu.pool))
        add(
          `${at}.gpu.pool`,
          `no GPU pool "${gpu.pool}" (pools: ${cfg.gpuPools.map((p) => p.name).join(", ") || "none"})`,
        );
    }
    if (model.gpu === "auto" && cfg.gpuPools.length === 0)
      add(`${at}.gpu`, "gpu: auto chooses among gpuPools, and there are none");
    if (!llm && model.architecture !== undefined)
      add(
        `${at}.architecture`,
        `architecture sizes LLM runtimes (vllm, tgi); ${model.runtime} does not use it`,
      );

    // Engine settings.
    const engine = model.engine;
    if (!llm) {
      for (const key of [
        "quantization",
        "maxModelLen",
        "gpuMemoryUtilization",
        "maxNumSeqs",
        "maxNumBatchedTokens",
        "tensorParallelSize",
        "speculative",
      ] as const) {
        if (engine[key] !== undefined)
          add(
            `${at}.engine.${key}`,
            `engine settings apply to LLM runtimes (vllm, tgi); ${model.runtime} does not use ${key}`,
          );
      }
    }
    if (model.runtime === "tgi" && engine.dtype === "float32")
      add(`${at}.engine.dtype`, "TGI serves float16 or bfloat16 only");
    if (model.runtime === "tgi" && engine.speculative && engine.speculative.method !== "ngram")
      add(
        `${at}.engine.speculative.method`,
        `TGI supports n-gram speculation (--speculate) and Medusa heads baked into the model; ${engine.speculative.method} needs vllm`,
      );
    if (model.batcher && llm)
      add(
        `${at}.batcher`,
        `${model.runtime} batches continuously on its own (engine.maxNumSeqs); the KServe request batcher would only add latency`,
      );

    // Deployment mode and autoscaling.
    const scaling = model.autoscaling;
    if (scaling.minReplicas > scaling.maxReplicas)
      add(
        `${at}.autoscaling.minReplicas`,
        `minReplicas (${scaling.minReplicas}) exceeds maxReplicas (${scaling.maxReplicas})`,
      );
    if (scaling.minReplicas === 0 && llm && env === "prod")
      add(
        `${at}.autoscaling.minReplicas`,
        "prod never scales an LLM to zero: a cold start (node boot + image pull + weight load) takes minutes; use minReplicas >= 1",
      );
    if (scaling.minReplicas === 1 && env === "prod" && !scaling.outageOnNodeLoss)
      add(
        `${at}.autoscaling.minReplicas`,
        "prod runs at least 2 replicas, spread across nodes, so one node loss does not stop the model; or accept the outage with autoscaling.outageOnNodeLoss: '<why>'",
      );
    if (mode === "Knative" && addons.knative.enabled === false)
      add(`${at}.deploymentMode`, "Knative mode needs addons.knative.enabled (true or auto)");
    scaling.triggers.forEach((t, j) => {
      const path = `${at}.autoscaling.triggers[${j}].type`;
      if ((KEDA_TRIGGERS as readonly string[]).includes(t.type)) {
        if (mode !== "Standard")
          add(
            path,
            `${t.type} scales through KEDA, which KServe supports only in Standard mode (this model is ${mode}); use concurrency or rps, or deploymentMode: Standard`,
          );
        if (!addons.keda.enabled) add(path, `${t.type} scales through KEDA; enable addons.keda`);
        if (t.type === "gpuUtilization" && !(addons.dcgmExporter.enabled && addons.monitoring.enabled))
          add(
            path,
            "gpuUtilization reads DCGM_FI_DEV_GPU_UTIL; enable addons.dcgmExporter and addons.monitoring",
          );
        if (t.type === "gpuUtilization" && !model.gpu) add(path, "gpuUtilization needs a GPU model");
        if (
          ["queueDepth", "runningRequests", "kvCacheUsage", "tokenThroughput"].includes(t.type) &&
          model.runtime !== "vllm"
        )
          add(path, `${t.type} reads vLLM metrics; ${model.runtime} does not export them`);
        if (t.type === "tritonQueueTime" && model.runtime !== "triton")
          add(path, "tritonQueueTime reads Triton's nv_inference_queue_duration_us; only for runtime triton");
        if (t.type !== "gpuUtilization" && !addons.monitoring.enabled)
          add(path, `${t.type} is read from Prometheus; enable addons.monitoring`);
      } else if ((KPA_TRIGGERS as readonly string[]).includes(t.type)) {
        if (mode !== "Knative")
          add(
            path,
            `${t.type} is a Knative (KPA) metric; this model is ${mode}. Use a KEDA trigger (e.g. queueDepth) or deploymentMode: Knative`,
          );
      } else if ((HPA_TRIGGERS as readonly string[]).includes(t.type)) {
        if (model.gpu)
          add(
            path,
            `${t.type} does not reflect GPU load; GPU models scale on queue depth or GPU utilization`,
          );
      }
    });
    const kpaCount = scaling.triggers.filter((t) =>
      (KPA_TRIGGERS as readonly string[]).includes(t.type),
    ).length;
    if (kpaCount > 1)
      add(
        `${at}.autoscaling.triggers`,
        "Knative's KPA scales on one metric (concurrency or rps), not several",
      );
    scaleToZeroProblems(model, at, mode, addons, add);
    batcherProblems(model, at, mode, add);
    trainedModelStorageProblems(model, at, add);
    engineFlagProblems(model, at, add);
    autoscalingRangeProblems(model, at, add);
    if (model.deploymentMode === "Knative" && model.gpu && llm)
      add(
        `${at}.deploymentMode`,
        "LLMs run in Standard mode: Knative's request timeouts and progress deadline fight multi-minute loads, and KEDA queue-depth scaling needs Standard",
      );

    // Rollouts.
    const r = model.rollout;
    if (r) {
      if (mode === "Knative" && r.mode !== "canary")
        add(
          `${at}.rollout.mode`,
          `${r.mode} needs platform-owned routing (two InferenceServices and an Istio VirtualService), which the platform builds in Standard mode only; Knative mode supports canary`,
        );
      if (r.mode === "ab" && !r.match)
        add(`${at}.rollout.match`, "A/B routing needs match: {header | cookie, value}");
      if (r.match && !r.match.header && !r.match.cookie) add(`${at}.rollout.match`, "set header or cookie");
      if (r.match && r.match.header && r.match.cookie)
        add(`${at}.rollout.match`, "set header or cookie, not both");
      if (r.mode !== "ab" && r.match) add(`${at}.rollout.match`, `match applies to mode ab, not ${r.mode}`);
      if (r.mode === "blueGreen" && r.percent !== 0)
        add(
          `${at}.rollout.percent`,
          "blue/green switches all traffic with rollout.active; percent must stay 0",
        );
      const steps = r.steps;
      for (let s = 1; s < steps.length; s++)
        if (steps[s]! <= steps[s - 1]!)
          add(`${at}.rollout.steps`, `steps must increase (got ${steps.join(", ")})`);
      const maxStep = effectiveMaxStep(r, env);
      const from = (k: number) => (k === 0 ? 0 : steps[k - 1]!);
      const big = maxStep === undefined ? -1 : steps.findIndex((v, k) => v - from(k) > maxStep);
      if (big >= 0)
        add(
          `${at}.rollout.steps`,
          `step ${big + 1} (${from(big)} -> ${steps[big]}%) exceeds the max step of ${maxStep} points${r.maxStep === undefined ? " (prod's default; set rollout.maxStep to change it)" : ""}`,
        );
      if (r.maxStep !== undefined && env !== "prod")
        add(`${at}.rollout.maxStep`, `maxStep guards prod rollouts; ${env} does not enforce it`);
    }
  });
  return problems;
}

/** Alert delivery: prod alerts must reach someone, through a secret the stack has. */
function alertProblems(cfg: PlatformInput): Problem[] {
  const m = cfg.addons.monitoring;
  const at = "addons.monitoring.alerts";
  if (!m.enabled) return [];
  if (!m.alerts)
    return cfg.environment === "prod"
      ? [
          {
            path: at,
            message:
              "prod alerts must reach someone: set receiver (slack, pagerduty or webhook) and secret (the stack secret holding its URL or routing key); without it they go to kube-prometheus-stack's null receiver",
          },
        ]
      : [];
  const problems: Problem[] = [];
  if (!cfg.secretNames.includes(m.alerts.secret))
    problems.push({
      path: `${at}.secret`,
      message: `no secret "${m.alerts.secret}" under inference-platform:secrets (have: ${cfg.secretNames.join(", ") || "none"}); set it with pulumi config set --secret --path 'secrets.${m.alerts.secret}'`,
    });
  if (m.alerts.channel !== undefined && m.alerts.receiver !== "slack")
    problems.push({
      path: `${at}.channel`,
      message: `channel is a Slack setting; receiver is ${m.alerts.receiver}`,
    });
  return problems;
}

/** KServe multi-model serving: a host without its own storageUri (memory fit: checkPlacement). */
function multiModelProblems(model: ModelInput, at: string, llm: boolean): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path: `${at}.${path}`, message });
  const hosted = model.trainedModels;
  if (!hosted) {
    if (!model.storageUri) add("storageUri", "required (or trainedModels, for a multi-model server)");
    return problems;
  }
  if (model.storageUri)
    add("storageUri", "a multi-model server loads its trainedModels; it has no storageUri of its own");
  if (hosted.length === 0) add("trainedModels", "list at least one model, or remove trainedModels");
  if (llm || !MULTI_MODEL_RUNTIMES.includes(model.runtime))
    add(
      "trainedModels",
      `KServe multi-model serving runs on ${MULTI_MODEL_RUNTIMES.join(" and ")} (their servers load TrainedModels); ${model.runtime} serves one model per pod`,
    );
  if (model.rollout)
    add(
      "rollout",
      "roll out a multi-model server's models one by one (edit its trainedModels); the server has no candidate",
    );
  const names = new Set<string>();
  hosted.forEach((t, j) => {
    if (names.has(t.name)) add(`trainedModels[${j}].name`, `duplicate trained model "${t.name}"`);
    names.add(t.name);
    if (t.name === model.name) add(`trainedModels[${j}].name`, `"${t.name}" is the server's own name`);
  });
  return problems;
}

function batchJobProblems(model: ModelInput, at: string): Problem[] {
  const problems: Problem[] = [];
  const names = new Set<string>();
  model.batchJobs.forEach((j, k) => {
    const path = `${at}.batchJobs[${k}]`;
    if (names.has(j.name))
      problems.push({ path: `${path}.name`, message: `duplicate batch job "${j.name}"` });
    names.add(j.name);
    // A CronJob's name has room for 52 characters (its Jobs append 11); a Job's, 63 (a label value).
    const full = batchJobName(model.name, j.name);
    const limit = j.schedule ? 52 : 63;
    if (full.length > limit)
      problems.push({
        path: `${path}.name`,
        message: `"${full}" is ${full.length} characters; a ${j.schedule ? "CronJob" : "Job"} name may have ${limit}`,
      });
    for (const key of ["input", "output"] as const) {
      const parsed = parseStorageUri(j[key]);
      if (!isStorageError(parsed) && !["s3", "gs", "pvc"].includes(parsed.scheme))
        problems.push({
          path: `${path}.${key}`,
          message: `batch ${key} must be s3://, gs:// or pvc:// (got ${parsed.scheme}://)`,
        });
    }
    if (!model.storageUri)
      problems.push({
        path: `${path}`,
        message: "batch jobs run a model with its own storageUri, not a multi-model server",
      });
  });
  return problems;
}

/** Rules that need each model's resolved placement (after capacity planning). */
export function checkPlacement(cfg: PlacedModels): Problem[] {
  const problems: Problem[] = [];
  cfg.models.forEach((model, i) => {
    const at = `models[${i}]`;
    // A multi-model server's TrainedModels must fit the memory its pods really get (GPU hosts get a
    // share of their node's, CPU hosts the default or resources.memory).
    if (model.trainedModels) {
      const total = model.trainedModels.reduce((s, t) => s + quantityBytes(t.memory), 0);
      const host = quantityBytes(resolveModel(model, cfg).memory);
      if (total > host)
        problems.push({
          path: `${at}.trainedModels`,
          message: `the models need ${(total / GIB).toFixed(1)} GiB together but the server has ${(host / GIB).toFixed(1)} GiB (resources.memory); raise it or split the models across servers`,
        });
    }
    problems.push(...nodeFitProblems(cfg, model, at));
    if (!model.gpu) return;
    const gpu = model.gpu;
    const pool = cfg.gpuPools.find((p) => p.name === gpu.pool);
    const spec = pool ? poolGpu(pool) : undefined;
    if (!pool || !spec) return;
    if (gpu.count > spec.instance.gpus) {
      problems.push({
        path: `${at}.gpu.count`,
        message: `${gpu.count} GPUs per replica, but ${pool.instanceTypes[0]} nodes in pool "${pool.name}" have ${spec.instance.gpus}; a replica cannot span nodes`,
      });
      return;
    }
    // Pool capacity is checked across every model and candidate of the pool (models/capacity/stack.ts).
  });
  return problems;
}

/**
 * A replica's CPU and memory requests must fit what one node of its pool offers pods (allocatable after
 * the kubelet's reservations, models/cluster/nodeShape.ts), or the pod stays Pending forever. GPU models
 * run on their pool's instance type; CPU models on the system node group (EKS; unknown on existing clusters).
 */
function nodeFitProblems(cfg: PlacedModels, model: ModelConfig, at: string): Problem[] {
  const pool = model.gpu ? cfg.gpuPools.find((p) => p.name === model.gpu!.pool) : undefined;
  const instanceType = pool
    ? pool.instanceTypes[0]
    : cfg.cluster.mode === "eks"
      ? cfg.cluster.systemNodeGroup.instanceTypes[0]
      : undefined;
  const shape = instanceType ? nodeShape(instanceType) : undefined;
  if (!shape) return [];
  const resolved = resolveModel(model, cfg);
  const where = pool ? `pool "${pool.name}" (${instanceType})` : `the system node group (${instanceType})`;
  const problems: Problem[] = [];
  const cpu = cpuMillis(resolved.cpu);
  if (cpu > shape.allocatable.cpuMillis)
    problems.push({
      path: `${at}.resources.cpu`,
      message: `${resolved.cpu} CPU per replica, but a node of ${where} offers pods ${(shape.allocatable.cpuMillis / 1000).toFixed(2)}: the pod would never schedule`,
    });
  const memory = quantityBytes(resolved.memory);
  if (memory > shape.allocatable.memoryMiB * 2 ** 20)
    problems.push({
      path: `${at}.resources.memory`,
      message: `${resolved.memory} per replica, but a node of ${where} offers pods ${(shape.allocatable.memoryMiB / 1024).toFixed(1)} GiB: the pod would never schedule`,
    });
  return problems;
}
