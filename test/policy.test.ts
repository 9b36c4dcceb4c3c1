import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { POLICIES, PACK_NAME } from "../policy/policies";
import { resolvePolicyConfig, runPolicies, stackPolicyConfig, type PolicyInput } from "../policy/offline";
import { stockPlan } from "./plans";
import { policyInputs, ROOT } from "../tools/planRunner";

async function inputs(stack: string): Promise<PolicyInput[]> {
  return structuredClone(policyInputs((await stockPlan(stack)).resources));
}

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
function edit(
  resources: PolicyInput[],
  match: (r: PolicyInput) => boolean,
  change: (props: Props, r: PolicyInput) => void,
) {
  const found = resources.filter(match);
  assert.ok(found.length > 0, "the fixture edit matched no resource");
  for (const r of found) change(r.props as Props, r);
  return resources;
}
const isvc = (name: string) => (r: PolicyInput) =>
  r.type === "kubernetes:serving.kserve.io/v1beta1:InferenceService" &&
  (r.props as Props).metadata?.name === name;
const ofType = (type: string, name?: string) => (r: PolicyInput) =>
  r.type === type && (name === undefined || r.name === name);
const model70b = (p: Props) => p.spec.predictor.model;
/** A predictor's workerSpec as models/serving/multiNode.ts writes it (GPUs per worker pod = tensor). */
const asMultiNode = (tensor: number, pipeline: number) => ({
  tensorParallelSize: tensor,
  pipelineParallelSize: pipeline,
  nodeSelector: { "inference-platform/pool": "l40s-x4" },
  containers: [{ name: "worker-container", resources: { limits: { "nvidia.com/gpu": String(tensor) } } }],
});

/** Runs one policy, mandatory, with the stack's own config for it (thresholds, allow-lists). */
async function violationsOf(policy: string, stack: string, resources: PolicyInput[]) {
  const p = POLICIES.find((x) => x.name === policy);
  assert.ok(p, `no policy ${policy}`);
  const own = stackPolicyConfig(stack)[policy];
  const config = {
    [policy]:
      typeof own === "object" ? { ...own, enforcementLevel: "mandatory" as const } : ("mandatory" as const),
  };
  return runPolicies(resources, config, [p]);
}

type Case = [policy: string, stack: string, breakIt: (rs: PolicyInput[]) => PolicyInput[], message: RegExp];
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool";
const NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass";
/** The dev gateway turned internet-facing (without the JWT and TLS a public gateway needs). */
const internetFacingGateway = (rs: PolicyInput[]) =>
  edit(
    rs,
    (r) => r.type === "kubernetes:helm.sh/v3:Release" && (r.props as Props).chart === "gateway",
    (p) =>
      (p.values.service.annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"] =
        "internet-facing"),
  );

const cases: Case[] = [
  [
    "gpu-request-equals-limit",
    "prod",
    (rs) => edit(rs, isvc("llama-31-70b"), (p) => (model70b(p).resources.requests["nvidia.com/gpu"] = "2")),
    /requests 2 GPUs but is limited to 4/,
  ],
  [
    "gpu-pods-tolerate-and-select",
    "prod",
    (rs) => edit(rs, isvc("llama-31-70b"), (p) => delete p.spec.predictor.tolerations),
    /does not tolerate the nvidia.com\/gpu=true:NoSchedule taint/,
  ],
  [
    "llm-shm-in-memory",
    "prod",
    (rs) => edit(rs, isvc("llama-31-70b"), (p) => delete p.spec.predictor.volumes),
    /no \/dev\/shm from an emptyDir/,
  ],
  [
    "llm-startup-probe",
    "prod",
    (rs) => edit(rs, isvc("qwen25-7b"), (p) => delete model70b(p).startupProbe),
    /no startupProbe/,
  ],
  [
    "no-llm-scale-to-zero",
    "prod",
    (rs) => edit(rs, isvc("qwen25-7b"), (p) => (p.spec.predictor.minReplicas = 0)),
    /scales to zero/,
  ],
  [
    "traffic-splits-valid",
    "dev",
    (rs) =>
      edit(
        rs,
        (r) =>
          r.type === "kubernetes:networking.istio.io/v1:VirtualService" &&
          (r.props as Props).metadata?.name === "llama-31-8b",
        (p) => (p.spec.http.at(-1).route[0].weight = 95),
      ),
    /weights sum to 105, not 100/,
  ],
  [
    "deployment-mode-features",
    "prod",
    (rs) => edit(rs, isvc("qwen25-7b"), (p) => (p.spec.predictor.canaryTrafficPercent = 10)),
    /canaryTrafficPercent works only in Knative mode/,
  ],
  [
    "storage-uri-allowlist",
    "dev",
    (rs) => edit(rs, isvc("iris"), (p) => (model70b(p).storageUri = "http://example.com/model.joblib")),
    /scheme "http" is not allowed/,
  ],
  [
    "images-pinned",
    "dev",
    (rs) => edit(rs, isvc("resnet50"), (p) => (model70b(p).image = "nvcr.io/nvidia/tritonserver:latest")),
    /floating tag "latest"/,
  ],
  [
    "requests-and-limits",
    "dev",
    (rs) => edit(rs, isvc("iris"), (p) => delete model70b(p).resources.limits.memory),
    /has no limits.memory/,
  ],
  [
    "eks-secrets-encryption",
    "prod",
    (rs) => edit(rs, ofType("eks:index:Cluster"), (p) => delete p.encryptionConfigKeyArn),
    /no encryptionConfigKeyArn/,
  ],
  [
    "eks-endpoint-not-world-open",
    "prod",
    (rs) => edit(rs, ofType("eks:index:Cluster"), (p) => (p.publicAccessCidrs = ["0.0.0.0/0"])),
    /open to 0.0.0.0\/0/,
  ],
  [
    "eks-control-plane-logging",
    "prod",
    (rs) => edit(rs, ofType("eks:index:Cluster"), (p) => (p.enabledClusterLogTypes = ["api"])),
    /missing: audit, authenticator/,
  ],
  [
    "nodes-require-imdsv2",
    "prod",
    (rs) =>
      edit(
        rs,
        ofType("aws:ec2/launchTemplate:LaunchTemplate"),
        (p) => (p.metadataOptions.httpTokens = "optional"),
      ),
    /httpTokens must be "required"/,
  ],
  [
    "pod-identity-trust-scoped",
    "prod",
    (rs) =>
      edit(rs, ofType("aws:iam/role:Role"), (p) => {
        const doc = JSON.parse(p.assumeRolePolicy);
        delete doc.Statement[0].Condition;
        p.assumeRolePolicy = JSON.stringify(doc);
      }),
    /trusts EKS Pod Identity without aws:RequestTag\/eks-cluster-name, aws:RequestTag\/kubernetes-namespace, aws:RequestTag\/kubernetes-service-account conditions/,
  ],
  [
    "nodes-require-imdsv2",
    "prod",
    (rs) =>
      edit(
        rs,
        ofType("aws:ec2/launchTemplate:LaunchTemplate"),
        (p) => (p.metadataOptions.httpPutResponseHopLimit = 2),
      ),
    /httpPutResponseHopLimit 2 lets pods reach the node's instance metadata/,
  ],
  [
    "gpu-node-groups-nvidia-ami",
    "prod",
    (rs) => edit(rs, ofType(NODE_GROUP, "gpu-l4-ng"), (p) => (p.amiType = "AL2023_x86_64_STANDARD")),
    /GPU instance types with AMI type AL2023_x86_64_STANDARD/,
  ],
  [
    "namespaces-pod-security",
    "prod",
    (rs) =>
      edit(
        rs,
        (r) => r.type === "kubernetes:core/v1:Namespace" && (r.props as Props).metadata?.name === "keda",
        (p) => (p.metadata.labels["pod-security.kubernetes.io/enforce"] = "privileged"),
      ),
    /namespace keda: enforces privileged without Istio sidecars and is not a node agent's/,
  ],
  [
    "no-broad-managed-policies",
    "prod",
    (rs) =>
      edit(
        rs,
        (r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        (p) => (p.policyArn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"),
      ),
    /attaches AmazonSSMManagedInstanceCore/,
  ],
  [
    "prod-models-survive-node-loss",
    "prod",
    (rs) =>
      edit(
        rs,
        (r) =>
          r.type === "kubernetes:core/v1:ServiceAccount" &&
          (r.props as Props).metadata?.name === "llama-31-70b-model",
        (p) => delete p.metadata.annotations["inference-platform/outage-on-node-loss"],
      ),
    /llama-31-70b: one replica, so a node loss stops it/,
  ],
  [
    "prod-no-single-point-of-failure",
    "prod",
    (rs) =>
      edit(
        rs,
        (r) => r.type === "kubernetes:helm.sh/v3:Release" && (r.props as Props).name === "keda",
        (p) => (p.values.metricsServer.replicaCount = 1),
      ),
    /release keda: metricsServer.replicaCount is 1; prod needs at least 2/,
  ],
  [
    "prod-no-single-point-of-failure",
    "prod",
    (rs) => rs.filter((r) => r.type !== "kubernetes:apps/v1:DeploymentPatch"),
    /kserve-controller-manager runs one replica/,
  ],
  [
    "model-namespaces-default-deny",
    "prod",
    (rs) =>
      rs.filter(
        (r) =>
          !(
            r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" &&
            (r.props as Props).metadata?.name === "default-deny"
          ),
      ),
    /namespace models: no default-deny NetworkPolicy/,
  ],
  [
    "model-namespaces-default-deny",
    "dev",
    (rs) =>
      edit(
        rs,
        (r) =>
          r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" &&
          (r.props as Props).metadata?.name === "allow-serving-egress",
        (p) => {
          for (const rule of p.spec.egress)
            for (const peer of rule.to) if (peer.ipBlock) delete peer.ipBlock.except;
        },
      ),
    /allow-serving-egress: egress to 0.0.0.0\/0 reaches the instance metadata service/,
  ],
  [
    "namespaces-pod-security",
    "dev",
    (rs) =>
      edit(
        rs,
        (r) => r.type === "kubernetes:core/v1:Namespace",
        (p) => delete p.metadata.labels["pod-security.kubernetes.io/enforce"],
      ),
    /no pod-security.kubernetes.io\/enforce level/,
  ],
  [
    "no-privileged-containers",
    "dev",
    (rs) => edit(rs, isvc("resnet50"), (p) => (model70b(p).securityContext = { privileged: true })),
    /container kserve-container is privileged/,
  ],
  [
    "no-static-aws-credentials",
    "dev",
    (rs) =>
      edit(
        rs,
        ofType("kubernetes:core/v1:Secret"),
        (p) => (p.stringData = { token: "AKIAIOSFODNN7EXAMPLE" }),
      ),
    /holds an AWS access key/,
  ],
  [
    "mtls-strict",
    "dev",
    (rs) =>
      edit(
        rs,
        ofType("kubernetes:security.istio.io/v1:PeerAuthentication"),
        (p) => (p.spec.mtls.mode = "PERMISSIVE"),
      ),
    /mTLS mode PERMISSIVE/,
  ],
  [
    "mtls-strict",
    "dev",
    (rs) =>
      edit(
        rs,
        ofType("kubernetes:security.istio.io/v1:PeerAuthentication"),
        (p) => (p.spec.portLevelMtls = { "8000": { mode: "PERMISSIVE" } }),
      ),
    /port 8000 mTLS mode PERMISSIVE; .*only llm-d pods' port 8000/,
  ],
  [
    "model-namespaces-mtls",
    "dev",
    (rs) => rs.filter((r) => !ofType("kubernetes:security.istio.io/v1:PeerAuthentication")(r)),
    /namespace models has no namespace-wide STRICT PeerAuthentication/,
  ],
  [
    "public-ingress-requires-auth",
    "dev",
    internetFacingGateway,
    /internet-facing without a RequestAuthentication/,
  ],
  [
    "public-ingress-requires-tls",
    "dev",
    internetFacingGateway,
    /the internet-facing gateway has no TLS certificate/,
  ],
  [
    "node-groups-roll-one-at-a-time",
    "prod",
    (rs) =>
      edit(rs, ofType(NODE_GROUP, "gpu-l4-ng"), (p) => (p.updateConfig = { maxUnavailablePercentage: 50 })),
    /gpu-l4-ng: updateConfig \{"maxUnavailablePercentage":50\}; replace one node at a time/,
  ],
  [
    "gpu-instance-allowlist",
    "prod",
    (rs) => edit(rs, ofType(NODE_GROUP, "gpu-l4-ng"), (p) => (p.instanceTypes = ["p4d.24xlarge"])),
    /p4d.24xlarge is not an allowed GPU instance type/,
  ],
  [
    "max-gpus-per-model",
    "prod",
    (rs) => edit(rs, isvc("llama-31-70b"), (p) => (p.spec.predictor.maxReplicas = 10)),
    /up to 40 GPUs \(4 × 10 replicas\); the limit is 32/,
  ],
  [
    "max-gpus-per-stack",
    "prod",
    (rs) => edit(rs, ofType(NODE_GROUP, "gpu-l40s-x4-ng"), (p) => (p.scalingConfig.maxSize = 20)),
    /can grow to 92 GPUs .*the limit is 64/,
  ],
  [
    "max-gpus-per-stack",
    "dev",
    (rs) => edit(rs, ofType(NODE_POOL), (p) => delete p.spec.limits["nvidia.com/gpu"]),
    /karpenter-nodepool-l4 unbounded: no nvidia.com\/gpu limit/,
  ],
  [
    "gpu-instance-allowlist",
    "dev",
    (rs) =>
      edit(rs, ofType(NODE_POOL), (p) => p.spec.template.spec.requirements[0].values.push("p5.48xlarge")),
    /p5.48xlarge is not an allowed GPU instance type/,
  ],
  [
    "karpenter-gpu-pools-disrupt-gently",
    "dev",
    (rs) => edit(rs, ofType(NODE_POOL), (p) => delete p.spec.disruption.consolidationPolicy),
    /consolidationPolicy WhenEmptyOrUnderutilized drains GPU nodes that still run replicas/,
  ],
  [
    "karpenter-gpu-pools-disrupt-gently",
    "dev",
    (rs) => edit(rs, ofType(NODE_POOL), (p) => (p.spec.disruption.budgets = [{ nodes: "50%" }])),
    /replace one node at a time/,
  ],
  [
    "karpenter-node-classes-safe",
    "dev",
    (rs) => edit(rs, ofType(NODE_CLASS), (p) => (p.spec.metadataOptions.httpPutResponseHopLimit = 2)),
    /httpPutResponseHopLimit 2 lets pods reach the node's credentials/,
  ],
  [
    "karpenter-node-classes-safe",
    "dev",
    (rs) =>
      edit(rs, ofType(NODE_CLASS), (p) => {
        p.metadata.labels["inference-platform/environment"] = "prod";
        p.spec.amiSelectorTerms = [{ alias: "al2023@latest" }];
      }),
    /al2023@latest in prod: every AMI release drifts/,
  ],
  [
    "karpenter-node-classes-safe",
    "dev",
    (rs) =>
      edit(rs, ofType(NODE_CLASS), (p) => (p.spec.amiSelectorTerms = [{ id: "ami-0123456789abcdef0" }])),
    /select a custom AMI/,
  ],
  [
    "host-paths-only-weight-cache",
    "dev",
    (rs) =>
      edit(rs, isvc("llama-31-8b"), (p) =>
        p.spec.predictor.model.volumeMounts
          .filter((m: Props) => m.name === "weight-cache")
          .forEach((m: Props) => delete m.readOnly),
      ),
    /container kserve-container mounts the weight cache writable/,
  ],
  [
    "host-paths-only-weight-cache",
    "dev",
    (rs) =>
      edit(
        rs,
        ofType("kubernetes:apps/v1:DaemonSet"),
        (p) => (p.spec.template.spec.volumes[0].hostPath.path = "/var/lib/kubelet"),
      ),
    /host path \/var\/lib\/kubelet \(only \/var\/lib\/kubelet\/inference-platform-models\/<model> is allowed\)/,
  ],
  [
    "host-paths-only-weight-cache",
    "dev",
    (rs) =>
      edit(
        rs,
        ofType("kubernetes:apps/v1:DaemonSet"),
        (p) =>
          (p.spec.template.spec.volumes[0].hostPath.path =
            "/var/lib/kubelet/inference-platform-models/../pods"),
      ),
    /host path \/var\/lib\/kubelet\/inference-platform-models\/\.\.\/pods/,
  ],
  [
    "host-paths-only-weight-cache",
    "dev",
    (rs) =>
      edit(rs, isvc("llama-31-8b"), (p) =>
        p.spec.predictor.initContainers[0].volumeMounts.forEach((m: Props) => delete m.readOnly),
      ),
    /container wait-for-weights mounts the weight cache writable/,
  ],
  [
    "dev-spot-gpu-pools",
    "dev",
    (rs) =>
      edit(rs, ofType(NODE_POOL), (p) =>
        p.spec.template.spec.requirements
          .filter((r: Props) => r.key === "karpenter.sh/capacity-type")
          .forEach((r: Props) => (r.values = ["on-demand", "spot"])),
      ),
    /spot costs about a third/,
  ],
  [
    "isvc-identity",
    "prod",
    (rs) =>
      rs.filter(
        (r) =>
          !(
            r.type === "aws:eks/podIdentityAssociation:PodIdentityAssociation" &&
            (r.props as Props).serviceAccount === "llama-31-70b-model"
          ),
      ),
    /loads from s3:\/\/ but ServiceAccount models\/llama-31-70b-model has no AWS role/,
  ],
  [
    "llm-has-autoscaler",
    "prod",
    (rs) => rs.filter((r) => r.type !== "kubernetes:keda.sh/v1alpha1:ScaledObject"),
    /no ScaledObject targets llama-31-70b-predictor/,
  ],
  [
    "rollout-has-routing",
    "dev",
    (rs) => rs.filter((r) => r.type !== "kubernetes:networking.istio.io/v1:VirtualService"),
    /candidate InferenceService that no VirtualService routes to/,
  ],
  [
    "keda-targets-standard-mode",
    "dev",
    (rs) =>
      edit(
        rs,
        isvc("llama-31-8b"),
        (p) => (p.metadata.annotations["serving.kserve.io/deploymentMode"] = "Knative"),
      ),
    /scales models\/llama-31-8b, which runs in Knative mode/,
  ],
  [
    "model-fits-gpu",
    "prod",
    (rs) =>
      edit(rs, isvc("llama-31-70b"), (p) => {
        const m = model70b(p);
        m.resources.requests["nvidia.com/gpu"] = m.resources.limits["nvidia.com/gpu"] = "2";
        m.args = m.args
          .filter((a: string) => !/^--(quantization|kv-cache-dtype|tensor-parallel-size)=/.test(a))
          .concat("--tensor-parallel-size=2");
      }),
    /llama-3.1-70b on 2× L40S leaves 0 KV tokens .*: the GPU request is too small for the model/,
  ],
  [
    "model-fits-gpu",
    "prod",
    // The 70B in BF16 as a multi-node replica of two pipeline stages of one GPU each: the degrees are
    // the workerSpec's, not the model args'.
    (rs) =>
      edit(rs, isvc("llama-31-70b"), (p) => {
        const m = model70b(p);
        m.resources.requests["nvidia.com/gpu"] = m.resources.limits["nvidia.com/gpu"] = "1";
        m.args = m.args.filter(
          (a: string) => !/^--(quantization|kv-cache-dtype|tensor-parallel-size)=/.test(a),
        );
        p.spec.predictor.workerSpec = asMultiNode(1, 2);
      }),
    /llama-3.1-70b on 2 nodes × 1× L40S leaves 0 KV tokens/,
  ],
  [
    "multi-node-on-efa-in-prod",
    "prod",
    (rs) => edit(rs, isvc("llama-31-70b"), (p) => (p.spec.predictor.workerSpec = asMultiNode(4, 2))),
    /llama-31-70b: served across nodes on pool "l40s-x4", which has no EFA/,
  ],
  [
    "max-gpus-per-model",
    "prod",
    // Worker pods count: a replica is the head and pipelineParallelSize − 1 workers (4 + 2 × 4, 4 replicas).
    (rs) => edit(rs, isvc("llama-31-70b"), (p) => (p.spec.predictor.workerSpec = asMultiNode(4, 3))),
    /llama-31-70b: up to 48 GPUs/,
  ],
  [
    "image-cuda-vs-driver",
    "prod",
    (rs) => edit(rs, ofType(NODE_GROUP, "gpu-l4-ng"), (p) => (p.releaseVersion = "1.34.0-20250901")),
    /qwen25-7b on gpu-l4-ng: CUDA 13.3 needs driver R580\+, the node runs R570/,
  ],
  [
    "llm-d-needs-its-addons",
    "dev",
    // An LLMInferenceService in a stack that installs none of llm-d's add-ons.
    (rs) => [
      ...rs,
      {
        type: "kubernetes:serving.kserve.io/v1alpha2:LLMInferenceService",
        name: "qwen",
        urn: "urn:qwen",
        protect: false,
        props: {
          metadata: { name: "qwen", namespace: "models" },
          spec: {
            router: { gateway: { refs: [{ name: "inference-llm-gateway", namespace: "istio-system" }] } },
          },
        },
      } as PolicyInput,
    ],
    /qwen served through llm-d without the kserve-llmisvc-crd release[\s\S]*Gateway istio-system\/inference-llm-gateway, which this stack does not create/,
  ],
  [
    "protected-in-prod",
    "prod",
    (rs) => edit(rs, ofType("aws:kms/key:Key"), (_p, r) => ((r as { protect: boolean }).protect = false)),
    /aws:kms\/key:Key .*not protected/,
  ],
];

describe("CrossGuard policy pack", function () {
  this.timeout(60_000);

  it("has a violating and a passing case for every policy", () => {
    assert.deepEqual([...new Set(cases.map((c) => c[0]))].sort(), POLICIES.map((p) => p.name).sort());
  });

  for (const [policy, stack, breakIt, message] of cases)
    it(`${policy}: passes the ${stack} stack, fails a broken one`, async () => {
      assert.deepEqual(await violationsOf(policy, stack, await inputs(stack)), [], "the real stack passes");
      const violations = await violationsOf(policy, stack, breakIt(await inputs(stack)));
      assert.ok(violations.length > 0, "the broken fixture is caught");
      assert.match(violations.map((v) => v.message).join("\n"), message);
    });

  it("passes a public gateway that has request authentication", async () => {
    const rs = cases.find((c) => c[0] === "public-ingress-requires-auth")![2](await inputs("dev"));
    const ra = {
      type: "kubernetes:security.istio.io/v1:RequestAuthentication",
      name: "jwt",
      urn: "urn:ra",
      protect: false,
      props: { metadata: { name: "jwt" }, spec: { jwtRules: [{ issuer: "https://id" }] } },
    };
    const ap = {
      type: "kubernetes:security.istio.io/v1:AuthorizationPolicy",
      name: "require-jwt",
      urn: "urn:ap",
      protect: false,
      props: {
        metadata: { name: "require-jwt" },
        spec: { action: "DENY", rules: [{ from: [{ source: { notRequestPrincipals: ["*"] } }] }] },
      },
    };
    assert.deepEqual(await violationsOf("public-ingress-requires-auth", "dev", [...rs, ra, ap]), []);
  });

  for (const stack of ["dev", "prod", "local"])
    it(`the ${stack} stack passes every policy at its configured levels with zero violations`, async () => {
      assert.deepEqual(await runPolicies(await inputs(stack), stackPolicyConfig(stack)), []);
    });

  it("resolves enforcement levels and config like the engine: policy over all over default", () => {
    const allow = POLICIES.find((p) => p.name === "gpu-instance-allowlist")!;
    const dev = resolvePolicyConfig(allow, stackPolicyConfig("dev"));
    assert.equal(dev.level, "mandatory");
    assert.deepEqual((dev.props as { allowedInstanceTypes: string[] }).allowedInstanceTypes.slice(0, 2), [
      "g5.xlarge",
      "g5.2xlarge",
    ]);
    assert.equal(
      resolvePolicyConfig(
        POLICIES.find((p) => p.name === "images-pinned")!,
        stackPolicyConfig("dev"),
      ).level,
      "advisory",
    );
    assert.equal(
      resolvePolicyConfig(
        POLICIES.find((p) => p.name === "images-pinned")!,
        stackPolicyConfig("prod"),
      ).level,
      "mandatory",
    );
    assert.equal(
      resolvePolicyConfig(
        POLICIES.find((p) => p.name === "protected-in-prod")!,
        stackPolicyConfig("dev"),
      ).level,
      "disabled",
    );
  });

  it("follows the stack's environment when a stack has no policy config file (pack defaults only)", async () => {
    // A new dev or local stack: every policy at the pack's default (mandatory), no overrides.
    for (const stack of ["dev", "local"]) {
      const violations = await runPolicies(await inputs(stack), {});
      const envOnly = violations.filter((v) =>
        ["protected-in-prod", "no-llm-scale-to-zero", "dev-spot-gpu-pools"].includes(v.policy),
      );
      assert.deepEqual(envOnly, [], `${stack}: ${envOnly.map((v) => v.message).join("; ")}`);
    }
    // The same prod stack with an unprotected cluster and an LLM at zero still fails both.
    const prod = edit(
      await inputs("prod"),
      (r) => r.type === "eks:index:Cluster",
      (_p, r) => {
        (r as { protect: boolean }).protect = false;
      },
    );
    edit(prod, isvc("llama-31-70b"), (p) => (p.spec.predictor.minReplicas = 0));
    const failed = new Set((await runPolicies(prod, {})).map((v) => v.policy));
    assert.ok(failed.has("protected-in-prod") && failed.has("no-llm-scale-to-zero"), [...failed].join(", "));
  });

  describe("served through the analyzer gRPC interface the engine calls", () => {
    /* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any */
    const grpc = require("@grpc/grpc-js");
    const rpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
    const pb = require("@pulumi/pulumi/proto/analyzer_pb");
    const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
    const { Empty } = require("google-protobuf/google/protobuf/empty_pb");
    /* eslint-enable @typescript-eslint/no-require-imports */
    let child: ChildProcess;
    let client: any;
    const call = (method: string, request: unknown) =>
      new Promise<any>((resolve, reject) =>
        client[method](request, (err: Error | null, res: unknown) => (err ? reject(err) : resolve(res))),
      );

    before(async () => {
      const node22 = process.execPath;
      child = spawn(node22, ["--import", "tsx", "index.ts"], {
        cwd: path.join(ROOT, "policy"),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      const port = await new Promise<string>((resolve, reject) => {
        child.stdout!.on("data", (d: Buffer) => resolve(d.toString().trim()));
        child.on("exit", (code) => reject(new Error(`policy pack exited ${code}: ${stderr}`)));
      });
      client = new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });
    after(() => {
      client?.close();
      child?.kill();
    });

    function resource(r: PolicyInput) {
      const options = new pb.AnalyzerResourceOptions();
      options.setProtect(r.protect);
      const res = new pb.AnalyzerResource();
      res.setType(r.type);
      res.setName(r.name);
      res.setUrn(r.urn);
      res.setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(r.props))));
      res.setOptions(options);
      return res;
    }

    it("names the pack and every policy with its enforcement level", async () => {
      const info = await call("getAnalyzerInfo", new Empty());
      assert.equal(info.getName(), PACK_NAME);
      const names = info.getPoliciesList().map((p: any) => p.getName());
      assert.deepEqual([...names].sort(), POLICIES.map((p) => p.name).sort());
      const advisory = info
        .getPoliciesList()
        .filter((p: any) => p.getEnforcementlevel() === pb.EnforcementLevel.ADVISORY)
        .map((p: any) => p.getName());
      assert.deepEqual(advisory, ["dev-spot-gpu-pools"]);
    });

    it("analyzes the prod plan's resources with the prod config: zero violations, and catches a broken one", async () => {
      const req = new pb.ConfigureAnalyzerRequest();
      for (const name of Object.keys(stackPolicyConfig("prod"))) {
        if (name === "all") continue;
        const policy = POLICIES.find((p) => p.name === name);
        assert.ok(policy, `policy/config/prod.json configures an unknown policy "${name}"`);
        const { level, props } = resolvePolicyConfig(policy, stackPolicyConfig("prod"));
        const pc = new pb.PolicyConfig();
        pc.setEnforcementlevel(pb.EnforcementLevel[level.toUpperCase()]);
        pc.setProperties(Struct.fromJavaScript(props as Record<string, unknown>));
        req.getPolicyconfigMap().set(name, pc);
      }
      await call("configure", req);
      const rs = await inputs("prod");
      const stackReq = new pb.AnalyzeStackRequest();
      stackReq.setResourcesList(rs.map(resource));
      const diagnostics = (await call("analyzeStack", stackReq)).getDiagnosticsList();
      const perResource = await Promise.all(
        rs.map(async (r) => {
          const req1 = new pb.AnalyzeRequest();
          req1.setType(r.type);
          req1.setName(r.name);
          req1.setUrn(r.urn);
          req1.setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(r.props))));
          req1.setOptions(resource(r).getOptions());
          return (await call("analyze", req1)).getDiagnosticsList();
        }),
      );
      assert.deepEqual(
        [...diagnostics, ...perResource.flat()].map((d: any) => `${d.getPolicyname()}: ${d.getMessage()}`),
        [],
      );

      const broken = cases.find((c) => c[0] === "gpu-instance-allowlist")![2](await inputs("prod"));
      const group = broken.find((r) => r.name === "gpu-l4-ng")!;
      const req2 = new pb.AnalyzeRequest();
      req2.setType(group.type);
      req2.setName(group.name);
      req2.setUrn(group.urn);
      req2.setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(group.props))));
      req2.setOptions(resource(group).getOptions());
      const found = (await call("analyze", req2)).getDiagnosticsList();
      assert.equal(found.length, 1);
      assert.equal(found[0].getPolicyname(), "gpu-instance-allowlist");
      assert.equal(found[0].getEnforcementlevel(), pb.EnforcementLevel.MANDATORY);
      assert.match(found[0].getMessage(), /p4d.24xlarge is not an allowed GPU instance type/);
    });
  });
});
