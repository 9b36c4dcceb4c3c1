/**
 * The preset KServe v0.20.0 asks for and does not ship: a model over several nodes (an
 * LLMInferenceService with `spec.worker` and `parallelism.pipeline`) merges the well-known config
 * `kserve-config-llm-worker-pipeline-parallel` (config_merge.go 57-60, 253-264); the v0.20.0 charts
 * carry only the data-parallel worker presets, so without this one the controller stops at
 * PresetsCombined=False, ConfigNotFound (config_merge.go 155-161, getConfig 741-758; kserve#5047; the
 * PR that would have added it, kserve#5315, closed unmerged). The controller looks it up in the model's
 * namespace, then in `kserve` (getConfig), where the platform installs it.
 *
 * What it must hold for the controller (workload_multi_node.go): a leader template (`template`) and a
 * worker template (`worker`), each with the container `main` — the model's storage is attached to that
 * container on both (attachModelArtifacts, 213 and 241; utils/storage.go AddModelMount), at /mnt/models —
 * and the leader serving the OpenAI API on 8000, which the workload Service and the InferencePool select
 * (workload.go 131-149). It is written in the style of KServe's own data-parallel worker preset
 * (config/llmisvcconfig/config-llm-worker-data-parallel.yaml: image, env, volumes, security context).
 *
 * How vLLM forms one replica across the group without Ray (an optional dependency since vLLM 0.18,
 * whose CUDA requirements dropped it; llm-d's install script installs none — not confirmed in the image): its
 * multiprocessing executor over nodes, `--nnodes N --node-rank R --master-addr A` on every node and
 * `--headless` on all but the first (vLLM ≥ 0.11.1, vllm-project/vllm#23691; vllm 0.23.0
 * engine/arg_utils.py 947-958, config/parallel.py 855-856 and 898-905, entrypoints/cli/serve.py 207-217,
 * docs/serving/parallelism_scaling.md 145-159). Tensor parallelism stays inside a node (world ranks are
 * node-major), pipeline stages go one per node: nnodes = pipeline. The rank and the leader's address
 * come from LeaderWorkerSet's pod webhook (LWS_WORKER_INDEX: 0 on the leader; LWS_LEADER_ADDRESS: the
 * leader pod's name under the group's headless Service, which publishes not-ready addresses).
 *
 * The template is Go text/template over the LLMInferenceService as submitted (config_merge.go 605-722),
 * rendered inside a JSON document: no double quotes inside `{{ }}`.
 */
import type { K8sObject } from "../k8s";
import { customObject, PART_OF } from "../k8s";
import { LLMD_MAIN_CONTAINER } from "./llmInferenceService";
import { LLMD_SERVING_PORT } from "./namespace";

export const PIPELINE_PARALLEL_PRESET = "kserve-config-llm-worker-pipeline-parallel";
/** The image of KServe v0.20.0's own llm-d presets (vLLM 0.23 per llm-d's v0.8.0 component list). */
export const LLMD_PRESET_IMAGE = "ghcr.io/llm-d/llm-d-cuda:v0.8.0";
/** torch.distributed's rendezvous port on the leader (vLLM's default master_port, config/parallel.py 262). */
export const PIPELINE_MASTER_PORT = 29501;

type Role = "leader" | "worker";

/**
 * The container's script: resolve the leader's address to an IP (torch.distributed binds to what it is
 * given; the same retry KServe's data-parallel preset uses for ZMQ), then exec vLLM with the group's
 * layout. Extra engine flags come from VLLM_ADDITIONAL_ARGS and the container args, as in every preset.
 */
export function pipelineParallelScript(role: Role): string {
  const tls = (flag: string) => `{{ if .GlobalConfig.EnableTLS }}${flag}{{- end }}`;
  return [
    "RESOLVE_ATTEMPTS=${LEADER_ADDRESS_RESOLVE_ATTEMPTS:-60}",
    "for ((i=1; i<=RESOLVE_ATTEMPTS; i++)); do",
    "  MASTER_ADDR=$(getent hosts ${LWS_LEADER_ADDRESS} | cut -d' ' -f1)",
    '  if [ -n "$MASTER_ADDR" ]; then break; fi',
    '  echo "waiting for ${LWS_LEADER_ADDRESS} to resolve (attempt $i)"',
    "  sleep 1",
    "done",
    'if [ -z "$MASTER_ADDR" ]; then MASTER_ADDR=${LWS_LEADER_ADDRESS}; fi',
    'echo "node rank ${LWS_WORKER_INDEX} of {{ .Spec.Parallelism.Pipeline }}, leader ${MASTER_ADDR}"',
    'eval "exec vllm serve /mnt/models \\',
    '  --served-model-name "{{ .Spec.Model.Name }}" "publishers/{{ .ObjectMeta.Namespace }}/models/{{ .Spec.Model.Name }}" \\',
    `  --port ${LLMD_SERVING_PORT} \\`,
    "  --tensor-parallel-size {{ .Spec.Parallelism.Tensor }} \\",
    "  --pipeline-parallel-size {{ .Spec.Parallelism.Pipeline }} \\",
    "  --distributed-executor-backend mp \\",
    "  --nnodes {{ .Spec.Parallelism.Pipeline }} \\",
    "  --node-rank ${LWS_WORKER_INDEX} \\",
    "  --master-addr ${MASTER_ADDR} \\",
    `  --master-port ${PIPELINE_MASTER_PORT} \\`,
    ...(role === "worker"
      ? ["  --headless \\"]
      : [
          `  ${tls("--enable-ssl-refresh")} \\`,
          `  ${tls("--ssl-certfile /var/run/kserve/tls/tls.crt")} \\`,
          `  ${tls("--ssl-keyfile /var/run/kserve/tls/tls.key")} \\`,
        ]),
    "  ${VLLM_ADDITIONAL_ARGS} \\",
    '  $@"',
  ].join("\n");
}

const HEALTH = {
  httpGet: {
    path: "/health",
    port: LLMD_SERVING_PORT,
    scheme: "{{ if .GlobalConfig.EnableTLS }}HTTPS{{else}}HTTP{{- end }}",
  },
};

function container(role: Role) {
  return {
    name: LLMD_MAIN_CONTAINER,
    image: LLMD_PRESET_IMAGE,
    imagePullPolicy: "IfNotPresent",
    // "--" ends bash's options: the container's args reach vllm serve as "$@".
    command: ["/bin/bash", "-c", pipelineParallelScript(role), "--"],
    ...(role === "leader" ? { ports: [{ containerPort: LLMD_SERVING_PORT, protocol: "TCP" }] } : {}),
    env: [
      { name: "HOME", value: "/home" },
      { name: "VLLM_LOGGING_LEVEL", value: "INFO" },
      { name: "HF_HUB_CACHE", value: "/models" },
    ],
    securityContext: {
      allowPrivilegeEscalation: false,
      // nvidia-cdi-hook requires a writable root filesystem (as KServe's presets say).
      readOnlyRootFilesystem: false,
      runAsNonRoot: true,
      // libfabric's EFA provider pins the memory it registers for RDMA (NCCL over EFA between stages).
      capabilities: { add: ["IPC_LOCK"], drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    lifecycle: { preStop: { exec: { command: ["/bin/sleep", "15"] } } },
    terminationMessagePolicy: "FallbackToLogsOnError",
    // The leader alone serves the API: its health is the replica's (a lost stage fails its requests,
    // and LeaderWorkerSet recreates the whole group when any pod restarts, RecreateGroupOnPodRestart).
    ...(role === "leader"
      ? {
          livenessProbe: { ...HEALTH, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 10 },
          readinessProbe: { ...HEALTH, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 2 },
          // A default: the model's template replaces the budget with its predicted load (llmInferenceService.ts).
          startupProbe: { ...HEALTH, periodSeconds: 10, failureThreshold: 60 },
        }
      : {}),
    volumeMounts: [
      { mountPath: "/home", name: "home" },
      { mountPath: "/tmp", name: "tmp-dir" },
      { mountPath: "/dev/shm", name: "dshm" },
      { mountPath: "/models", name: "model-cache" },
      ...(role === "leader" ? [{ mountPath: "/var/run/kserve/tls", name: "tls-certs", readOnly: true }] : []),
    ],
  };
}

function podSpec(role: Role) {
  return {
    containers: [container(role)],
    terminationGracePeriodSeconds: 60,
    volumes: [
      { name: "home", emptyDir: {} },
      { name: "tmp-dir", emptyDir: {} },
      // NCCL's intra-node buffers for tensor parallelism (KServe's worker presets size it the same).
      { name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "8Gi" } },
      { name: "model-cache", emptyDir: {} },
      ...(role === "leader"
        ? [
            {
              name: "tls-certs",
              secret: { secretName: "{{ ChildName .ObjectMeta.Name `-kserve-self-signed-certs` }}" },
            },
          ]
        : []),
    ],
  };
}

/** The LLMInferenceServiceConfig, in the kserve namespace beside KServe's own presets. */
export function pipelineParallelPreset(): K8sObject {
  return customObject("serving.kserve.io/v1alpha2/LLMInferenceServiceConfig", {
    metadata: { name: PIPELINE_PARALLEL_PRESET, namespace: "kserve", labels: { ...PART_OF } },
    spec: { template: podSpec("leader"), worker: podSpec("worker") },
  });
}
