/**
 * Karpenter as the GPU pools' autoscaler: the objects per pool, the controller's IAM, the config rules,
 * and the dev plan wiring (dev runs Karpenter; prod keeps managed node groups).
 */
import * as assert from "node:assert/strict";
import {
  amiAlias,
  ec2NodeClass,
  karpenterPoolObjects,
  nodePool,
  nodePoolWeights,
} from "../models/cluster/karpenterPools";
import { INTERRUPTION_EVENTS, karpenterControllerPolicy } from "../models/cluster/karpenterIam";
import { interruptionQueueName } from "../models/addons/karpenter";
import { gpuPoolSchema, type GpuPoolConfig } from "../config/schema";
import { configError, stackRaw } from "./helpers";
import { stockPlan } from "./plans";

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const pool = (over: Partial<GpuPoolConfig> = {}): GpuPoolConfig =>
  gpuPoolSchema.parse({ name: "l4", instanceTypes: ["g6.xlarge", "g6.2xlarge"], maxSize: 6, ...over });
const INPUTS = {
  clusterName: "c1",
  nodeRoleName: "c1-node",
  subnetIds: ["subnet-0a", "subnet-0b"],
  securityGroupId: "sg-0eks",
  tags: { "inference-platform/environment": "dev" },
};

describe("Karpenter GPU pools", function () {
  this.timeout(60_000);

  it("builds a NodePool that holds the pool's size, capacity type, taint and labels, and never drains busy GPU nodes", () => {
    const np = nodePool(
      pool({ capacityType: "SPOT", instanceTypes: ["g6e.12xlarge"], maxSize: 3 }),
      2,
      {},
    ) as Any;
    const reqs = Object.fromEntries(np.spec.template.spec.requirements.map((r: Any) => [r.key, r.values]));
    assert.deepEqual(reqs["node.kubernetes.io/instance-type"], ["g6e.12xlarge"]);
    assert.deepEqual(reqs["karpenter.sh/capacity-type"], ["spot"]);
    assert.deepEqual(np.spec.limits, { nodes: "3", "nvidia.com/gpu": "12" }, "maxSize × 4 GPUs per node");
    assert.deepEqual(np.spec.template.spec.taints, [
      { key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" },
    ]);
    assert.equal(np.spec.template.metadata.labels["inference-platform/pool"], "l4");
    assert.equal(np.spec.template.metadata.labels["inference-platform/nvidia-device-plugin"], "daemonset");
    assert.equal(np.spec.disruption.consolidationPolicy, "WhenEmpty");
    assert.deepEqual(np.spec.disruption.budgets, [{ nodes: "1" }]);
    assert.equal(np.spec.template.spec.expireAfter, "Never");
    assert.equal(np.spec.template.spec.nodeClassRef.name, "l4");
  });

  it("builds an EC2NodeClass with the NVIDIA-capable alias, IMDSv2 hop 1, the pool's disk, NVMe RAID and placement group", () => {
    const nc = ec2NodeClass(pool({ releaseVersion: "1.34.4-20260714" }), {
      ...INPUTS,
      placementGroupName: "pg-1",
    }) as Any;
    assert.deepEqual(nc.spec.amiSelectorTerms, [{ alias: "al2023@v20260714" }]);
    assert.deepEqual(nc.spec.metadataOptions, {
      httpEndpoint: "enabled",
      httpTokens: "required",
      httpPutResponseHopLimit: 1,
      httpProtocolIPv6: "disabled",
    });
    assert.equal(nc.spec.role, "c1-node");
    assert.deepEqual(nc.spec.subnetSelectorTerms, [{ id: "subnet-0a" }, { id: "subnet-0b" }]);
    assert.deepEqual(nc.spec.securityGroupSelectorTerms, [{ id: "sg-0eks" }]);
    assert.equal(nc.spec.blockDeviceMappings[0].ebs.volumeSize, "200Gi");
    assert.equal(nc.spec.instanceStorePolicy, "RAID0", "g6 sizes all have local NVMe");
    assert.deepEqual(nc.spec.placementGroupSelector, { name: "pg-1" });
    assert.equal(nc.metadata.labels["inference-platform/environment"], "dev");
    // Bottlerocket: OS volume plus data volume (setting mappings replaces Karpenter's defaults).
    const br = ec2NodeClass(pool({ os: "bottlerocket", releaseVersion: "1.68.0-a1b2c3d4" }), INPUTS) as Any;
    assert.deepEqual(br.spec.amiSelectorTerms, [{ alias: "bottlerocket@v1.68.0" }]);
    assert.deepEqual(
      br.spec.blockDeviceMappings.map((m: Any) => m.deviceName),
      ["/dev/xvda", "/dev/xvdb"],
    );
    assert.equal(amiAlias({ os: "al2023" }), "al2023@latest");
  });

  it("orders pools cheapest first, as the Cluster Autoscaler's priority expander does, and names each class before its pool", () => {
    const pools = [pool({ name: "big", instanceTypes: ["g6e.12xlarge"] }), pool({ name: "small" })];
    const weights = nodePoolWeights(pools);
    assert.ok(weights.get("small")! > weights.get("big")!);
    const objects = karpenterPoolObjects(pools, { ...INPUTS, placementGroups: {} });
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}`),
      ["EC2NodeClass/big", "EC2NodeClass/small", "NodePool/big", "NodePool/small"],
    );
  });

  it("gives the controller Karpenter's scoped policy: PassRole on the node role only, EC2 writes only on its own tags", () => {
    const nodeRoleArn = "arn:aws:iam::123456789012:role/c1-node";
    const text = karpenterControllerPolicy({
      clusterName: "c1",
      region: "us-west-2",
      accountId: "123456789012",
      queueArn: "arn:aws:sqs:us-west-2:123456789012:c1-karpenter",
      nodeRoleArn,
    });
    assert.ok(text.length <= 10_240, `inline role policies hold 10,240 characters; this is ${text.length}`);
    const statements = (JSON.parse(text) as { Statement: Any[] }).Statement;
    const pass = statements.filter((s) => [s.Action].flat().includes("iam:PassRole"));
    assert.deepEqual(
      pass.map((s) => s.Resource),
      [nodeRoleArn],
    );
    const writes = statements.filter((s) =>
      [s.Action]
        .flat()
        .some((a: string) => /^ec2:(TerminateInstances|DeleteLaunchTemplate|CreateTags)$/.test(a)),
    );
    for (const s of writes)
      assert.ok(
        JSON.stringify(s.Condition).includes("kubernetes.io/cluster/c1"),
        `${s.Sid} is not scoped to the cluster's tag`,
      );
    assert.ok(
      !statements.some(
        (s) =>
          s.Resource === "*" && [s.Action].flat().some((a: string) => /Terminate|Delete|Create|Run/.test(a)),
      ),
    );
  });

  it("refuses what a NodePool cannot do, naming the key: a node floor, a desired size, EFA; prod must pin the node image", () => {
    const raw = stackRaw("dev") as Any;
    raw.gpuPools[0].minSize = 1;
    raw.gpuPools[0].desiredSize = 1;
    raw.gpuPools[0].name = "cpu";
    raw.models = raw.models.map((m: Any) =>
      m.gpu?.pool === "l4" ? { ...m, gpu: { ...m.gpu, pool: "cpu" } } : m,
    );
    const err = configError(raw, "dev");
    const byPath = Object.fromEntries(err.problems.map((p) => [p.path, p.message]));
    assert.match(byPath["gpuPools[0].minSize"]!, /Karpenter keeps no minimum of nodes/);
    assert.match(byPath["gpuPools[0].desiredSize"]!, /no desired size/);
    assert.match(byPath["gpuPools[0].name"]!, /"cpu" is the NodePool of CPU models under Karpenter/);
    const prod = stackRaw("prod") as Any;
    prod.cluster.nodeAutoscaler = "karpenter";
    prod.gpuPools = prod.gpuPools.map((p: Any) => ({ ...p, minSize: 0 }));
    delete prod.gpuPools[1].releaseVersion;
    const prodErr = configError(prod, "prod");
    assert.deepEqual(
      prodErr.problems.filter((p) => p.path.startsWith("gpuPools")).map((p) => p.path),
      ["gpuPools[1].releaseVersion"],
    );
  });

  it("plans dev with Karpenter: no GPU node groups, a NodePool and EC2NodeClass after the controller, its queue and rules", async () => {
    const p = await stockPlan("dev");
    const of = (type: string) => p.resources.filter((r) => r.type === type);
    assert.equal(of("aws:eks/nodeGroup:NodeGroup").length, 1, "only the system node group");
    const named = (type: string, name: string) =>
      of(type).find((r) => (r.inputs as Any).metadata.name === name);
    const np = named("kubernetes:karpenter.sh/v1:NodePool", "l4");
    const nc = named("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", "l4");
    assert.ok(np && nc);
    // CPU models get a pool too: nothing scales the managed system node group under Karpenter.
    const cpu = named("kubernetes:karpenter.sh/v1:NodePool", "cpu")!.inputs as Any;
    assert.deepEqual(cpu.spec.template.spec.requirements[0].values, ["m6i.xlarge"]);
    assert.equal(cpu.spec.template.spec.taints, undefined);
    assert.deepEqual(cpu.spec.limits, { nodes: "4" }, "the system node group's maxSize");
    assert.ok(named("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", "cpu"));
    const release = p.resources.find(
      (r) => r.type === "kubernetes:helm.sh/v3:Release" && (r.inputs as Any).name === "karpenter",
    )!;
    const crds = p.resources.find(
      (r) => r.type === "kubernetes:helm.sh/v3:Release" && (r.inputs as Any).name === "karpenter-crd",
    )!;
    assert.ok(np.dependsOn.includes(release.urn) && nc.dependsOn.includes(release.urn));
    assert.ok(release.dependsOn.includes(crds.urn), "CRDs from their own release first");
    assert.equal(
      (release.inputs as Any).skipCrds,
      true,
      "the controller's chart leaves the CRDs to karpenter-crd",
    );
    const values = (release.inputs as Any).values;
    assert.equal(values.settings.interruptionQueue, interruptionQueueName("inference-dev"));
    const queue = of("aws:sqs/queue:Queue")[0]!;
    assert.equal((queue.inputs as Any).name, values.settings.interruptionQueue);
    assert.equal(of("aws:cloudwatch/eventRule:EventRule").length, Object.keys(INTERRUPTION_EVENTS).length);
    // Nodes join with the cluster's node role (its EC2_LINUX access entry) and its EKS security group.
    const privateSubnets = of("aws:ec2/subnet:Subnet").filter((s) => s.name.includes("-private-"));
    const terms = (nc.inputs as Any).spec.subnetSelectorTerms as Any[];
    assert.equal(terms.length, privateSubnets.length, "one selector term per private subnet");
    assert.ok(terms.every((t) => /^subnet-[0-9a-z]+$/.test(t.id)));
    assert.deepEqual((nc.inputs as Any).spec.securityGroupSelectorTerms, [{ id: "sg-0ekscluster00001" }]);
    const association = of("aws:eks/podIdentityAssociation:PodIdentityAssociation").find(
      (a) => (a.inputs as Any).serviceAccount === "karpenter",
    );
    assert.equal((association?.inputs as Any).namespace, "kube-system");
    assert.equal(values.serviceAccount.name, "karpenter");
  });
});
