/**
 * Runs the real program under @pulumi/pulumi's mock runtime and records every resource registration
 * exactly as the engine would receive it (type, name, parent, provider, dependsOn, protect,
 * retainOnDelete, inputs). Provider outputs are stubbed plausibly (EKS kubeconfig, ARNs, OIDC).
 * Resource transforms are not invoked by the mock monitor, so the recording wraps the monitor itself.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import * as settings from "@pulumi/pulumi/runtime/settings";

export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  parent: string;
  provider: string;
  dependsOn: string[];
  protect: boolean;
  retainOnDelete: boolean;
  /** Property paths whose change replaces the resource, and whether the old one goes first. */
  replaceOnChanges: string[];
  deleteBeforeReplace: boolean;
  /** Property paths a change of which the engine ignores after creation. */
  ignoreChanges: string[];
  custom: boolean;
  inputs: Record<string, unknown>;
}

/** The protobuf request/response objects the mock monitor exchanges (generated code, untyped here). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type GrpcMessage = any;

const ACCOUNT = "123456789012";
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
export const SECRET_MASK = "[secret]";

/**
 * Masks secret values (Pulumi's wire encoding) and drops unknowns, recursively. `reveal` keeps a
 * secret's value instead: offline that is the stack file's placeholder, never a decrypted secret (the
 * e2e applies objects and needs their shape, e.g. a Secret's stringData keys).
 */
export function maskSecrets(value: unknown, reveal = false): unknown {
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, reveal));
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270")
      return reveal ? maskSecrets(obj.value, reveal) : SECRET_MASK;
    if (obj[SECRET_SIG] !== undefined)
      return obj.value !== undefined
        ? maskSecrets(obj.value, reveal)
        : `[${String(obj[SECRET_SIG]).slice(0, 6)}]`;
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, maskSecrets(v, reveal)]));
  }
  if (value === "04da6b54-80e4-46f7-96ec-b56ff0331ba9") return "[unknown]";
  return value;
}

function fakeKubeconfig(name: string, region: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    clusters: [
      {
        name,
        cluster: {
          server: `https://${name.toUpperCase()}0123456789.gr7.${region}.eks.amazonaws.com`,
          "certificate-authority-data":
            "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVhZ0F3SUJBZ0lCQURBTkJna3Foa2lHOXcwQkFRc0ZBREFWTVJNd0VRWURWUVFERXdwcmRXSmwKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=",
        },
      },
    ],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
    kind: "Config",
    users: [
      {
        name,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: ["eks", "get-token", "--cluster-name", name],
          },
        },
      },
    ],
  });
}

export function platformMocks(region: string): pulumi.runtime.Mocks {
  return {
    newResource(args) {
      const inputs = args.inputs as Record<string, unknown>;
      // EC2 ids in EC2's shape where upstream schemas check it (Karpenter's subnet selector: subnet-[0-9a-z]+).
      const id =
        args.type === "aws:ec2/subnet:Subnet"
          ? `subnet-0${createHash("sha256").update(args.name).digest("hex").slice(0, 16)}`
          : `${args.name}-id`;
      const arnName = typeof inputs.name === "string" ? inputs.name : args.name;
      const state: Record<string, unknown> = { ...inputs };
      const service = args.type.split(":")[1]?.split("/")[0] ?? "";
      if (args.type.startsWith("aws:")) state.arn = `arn:aws:${service}:${region}:${ACCOUNT}:${arnName}`;
      switch (args.type) {
        case "eks:index:Cluster": {
          const name = String(inputs.name ?? args.name);
          const issuer = `https://oidc.eks.${region}.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF`;
          Object.assign(state, {
            kubeconfigJson: fakeKubeconfig(name, region),
            kubeconfig: JSON.parse(fakeKubeconfig(name, region)),
            oidcIssuer: issuer.replace("https://", ""),
            oidcProviderUrl: issuer,
            oidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${issuer.replace("https://", "")}`,
            clusterSecurityGroupId: "sg-0cluster0000000001",
            nodeSecurityGroupId: "sg-0nodes00000000001",
            // The EKS-created cluster security group (aws.eks.Cluster vpcConfig), which managed nodes carry.
            eksCluster: { vpcConfig: { clusterSecurityGroupId: "sg-0ekscluster00001" } },
          });
          break;
        }
        case "aws:iam/role:Role":
          state.arn = `arn:aws:iam::${ACCOUNT}:role/${arnName}`;
          state.name = arnName;
          break;
        case "aws:kms/key:Key":
          state.keyId = "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9";
          state.arn = `arn:aws:kms:${region}:${ACCOUNT}:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9`;
          break;
        case "aws:ec2/launchTemplate:LaunchTemplate":
          state.latestVersion = 1;
          break;
        case "aws:eks/nodeGroup:NodeGroup":
          state.nodeGroupName = `${String(inputs.nodeGroupNamePrefix ?? args.name)}20261128`;
          state.resources = [{ autoscalingGroups: [{ name: `eks-${args.name}-asg` }] }];
          break;
        case "aws:amp/workspace:Workspace":
          state.prometheusEndpoint = `https://aps-workspaces.${region}.amazonaws.com/workspaces/ws-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9/`;
          break;
      }
      return { id, state };
    },
    call(args) {
      if (args.token === "aws:eks/getAddonVersion:getAddonVersion") {
        const inputs = args.inputs as { addonName: string; kubernetesVersion: string };
        return { ...inputs, id: inputs.addonName, version: `v${inputs.kubernetesVersion}.0-eksbuild.1` };
      }
      return args.inputs;
    },
  };
}

const waitForRPCs = (): Promise<void> =>
  (settings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();

/** What a failed run had registered when it failed (to prove bad config registers nothing). */
const registeredAtFailure = new WeakMap<object, RecordedResource[]>();
export function registeredBeforeFailure(err: unknown): RecordedResource[] | undefined {
  return err !== null && typeof err === "object" ? registeredAtFailure.get(err) : undefined;
}

export interface MockRun {
  readonly resources: RecordedResource[];
  readonly outputs: Record<string, unknown>;
}

/** Runs `program` as a Pulumi stack under mocks and returns what it registered, sorted by URN. */
export async function runUnderMocks(
  program: () => Promise<Record<string, unknown>>,
  opts: {
    project: string;
    stack: string;
    region: string;
    config: Record<string, string>;
    secretKeys: string[];
    /** Keep secret values (placeholders offline) in the recorded inputs; see maskSecrets. */
    revealSecrets?: boolean;
  },
): Promise<MockRun> {
  const monitor = new MockMonitor(platformMocks(opts.region));
  const recorded: RecordedResource[] = [];
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = async (req: GrpcMessage, callback: (err: unknown, res: GrpcMessage) => void) => {
    return register(req, (err: unknown, res: GrpcMessage) => {
      if (!err && res) {
        recorded.push({
          urn: res.getUrn(),
          type: req.getType(),
          name: req.getName(),
          parent: req.getParent(),
          provider: req.getProvider(),
          dependsOn: [...req.getDependenciesList()].sort(),
          protect: req.getProtect() === true,
          retainOnDelete: req.getRetainondelete() === true,
          replaceOnChanges: [...req.getReplaceonchangesList()],
          deleteBeforeReplace: req.getDeletebeforereplace() === true,
          ignoreChanges: [...req.getIgnorechangesList()],
          custom: req.getCustom(),
          inputs: maskSecrets(req.getObject()?.toJavaScript() ?? {}, opts.revealSecrets) as Record<
            string,
            unknown
          >,
        });
      }
      callback(err, res);
    });
  };
  // Stack outputs as the engine receives them (secrets still marked), not as resolved JS values.
  let outputs: Record<string, unknown> = {};
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (
    req: GrpcMessage,
    callback: (err: unknown, res: GrpcMessage) => void,
  ) => {
    if (String(req.getUrn()).includes("::pulumi:pulumi:Stack::"))
      outputs = maskSecrets(req.getOutputs()?.toJavaScript() ?? {}) as Record<string, unknown>;
    registerOutputs(req, callback);
  };
  pulumi.runtime.setAllConfig(opts.config, opts.secretKeys);
  settings.setMockOptions(monitor, opts.project, opts.stack, true);
  try {
    await pulumi.runtime.runInPulumiStack(program);
  } catch (err) {
    // Let registrations already in flight land before taking the snapshot.
    await waitForRPCs().catch(() => undefined);
    if (err !== null && typeof err === "object") registeredAtFailure.set(err, [...recorded]);
    throw err;
  }
  await waitForRPCs();
  recorded.sort((a, b) => a.urn.localeCompare(b.urn));
  return { resources: recorded, outputs };
}
