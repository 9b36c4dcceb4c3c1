/**
 * Rules across fields: what the schema alone cannot say. Each rule adds a problem with the key path,
 * what is wrong and why, so one run reports every mistake. The rules live by concern in ./rules;
 * this module composes them and checks placement (what the capacity planner decided).
 */
import { weightCacheProblems } from "./rules/weightCache";
import { multiNodeProblems } from "./rules/multiNode";
import { llmdProblems } from "./rules/llmd";
import { WEIGHT_CACHE_REQUESTS } from "../models/serving/weightCache";
import type { PlatformInput } from "./schema";
import type { ModelConfig, PlacedModels } from "../models/plannedModel";
import type { Problem } from "./problems";
import { poolGpu } from "../models/cluster/nodePools";
import { isLlm, type ModelInput } from "../models/schema";
import { resolveModel } from "../models/serving/resolve";
import { isStorageError, parseStorageUri } from "../models/serving/storage";
import { imagePinProblem } from "../models/serving/images";
import { MAX_MODEL_NAME_LENGTH } from "../models/names";
import { batchJobName } from "../models/serving/batchJobs";
import { MULTI_MODEL_RUNTIMES } from "../models/serving/trainedModels";
import { GIB } from "../models/capacity/memory";
import { nodeShape } from "../models/cluster/nodeShape";
import { cpuMillis, quantityBytes } from "../models/serving/quantity";
import { addonVersionProblems, clusterProblems, unpinnedAddonWarnings } from "./rules/cluster";
import { gpuPoolProblems } from "./rules/gpuPools";
import { addonProblems, addonValuesProblems, alertProblems } from "./rules/addons";
import {
  autoscalingProblems,
  engineProblems,
  adapterProblems,
  hardwareProblems,
  rolloutProblems,
  storageProblems,
} from "./rules/models";

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
  return [...imagePinProblems(cfg, "warning"), ...unpinnedAddonWarnings(cfg)];
}

export function checkSemantics(cfg: PlatformInput): Problem[] {
  const problems: Problem[] = [
    ...imagePinProblems(cfg, "error"),
    ...clusterProblems(cfg),
    ...addonVersionProblems(cfg),
    ...gpuPoolProblems(cfg),
    ...addonProblems(cfg),
    ...alertProblems(cfg),
    ...addonValuesProblems(cfg),
  ];
  const names = new Map<string, number>();
  cfg.models.forEach((model, i) => {
    const at = `models[${i}]`;
    const prev = names.get(model.name);
    if (prev !== undefined)
      problems.push({
        path: `${at}.name`,
        message: `duplicate model name "${model.name}" (also models[${prev}]); names must be unique in a stack`,
      });
    names.set(model.name, i);
    if (model.name.length > MAX_MODEL_NAME_LENGTH)
      problems.push({
        path: `${at}.name`,
        message: `"${model.name}" is ${model.name.length} characters; at most ${MAX_MODEL_NAME_LENGTH} so every derived name (e.g. <name>-predictor-00001-private, <name>-canary-predictor) fits Kubernetes' 63`,
      });
    problems.push(
      ...storageProblems(cfg, model, at),
      ...multiModelProblems(model, at, isLlm(model)),
      ...batchJobProblems(model, at),
      ...hardwareProblems(cfg, model, at),
      ...engineProblems(model, at),
      ...adapterProblems(model, at),
      ...autoscalingProblems(cfg, model, at),
      ...rolloutProblems(cfg, model, at),
      ...llmdProblems(cfg, model, at),
    );
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
  const problems: Problem[] = [...weightCacheProblems(cfg), ...multiNodeProblems(cfg)];
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
        message: `${gpu.count} GPUs per node of a replica, but ${pool.instanceTypes[0]} nodes in pool "${pool.name}" have ${spec.instance.gpus}; to span nodes, set gpu.nodes (vLLM: pipeline parallel across them)`,
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
  // The weight-cache downloaders of the pool's cached models hold their requests on every node.
  const downloaders = pool ? cfg.models.filter((m) => m.nodeCache && m.gpu?.pool === pool.name).length : 0;
  const cpu = cpuMillis(resolved.cpu) + downloaders * cpuMillis(WEIGHT_CACHE_REQUESTS.cpu);
  if (cpu > shape.allocatable.cpuMillis)
    problems.push({
      path: `${at}.resources.cpu`,
      message: `${resolved.cpu} CPU per replica${downloaders ? ` beside ${downloaders} weight-cache downloader(s)` : ""}, but a node of ${where} offers pods ${(shape.allocatable.cpuMillis / 1000).toFixed(2)}: the pod would never schedule`,
    });
  const memory = quantityBytes(resolved.memory) + downloaders * quantityBytes(WEIGHT_CACHE_REQUESTS.memory);
  if (memory > shape.allocatable.memoryMiB * 2 ** 20)
    problems.push({
      path: `${at}.resources.memory`,
      message: `${resolved.memory} per replica${downloaders ? ` beside ${downloaders} weight-cache downloader(s)` : ""}, but a node of ${where} offers pods ${(shape.allocatable.memoryMiB / 1024).toFixed(1)} GiB: the pod would never schedule`,
    });
  return problems;
}
