/**
 * Karpenter's AWS resources: the interruption queue and the EventBridge rules that feed it, the
 * controller's Pod Identity role, and a cluster placement group for each pool that asks for one.
 * Documents and event patterns come from models/cluster/karpenterIam.ts.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { GpuPoolConfig } from "../config/schema";
import { interruptionQueueName, KARPENTER_NAMESPACE, KARPENTER_SA } from "../models/addons/karpenter";
import {
  INTERRUPTION_EVENTS,
  INTERRUPTION_QUEUE,
  interruptionEventPattern,
  interruptionQueuePolicy,
  karpenterControllerPolicy,
} from "../models/cluster/karpenterIam";
import { PodIdentityRole } from "./podIdentityRole";

export interface KarpenterAwsArgs {
  readonly clusterName: string;
  readonly region: string;
  readonly nodeRoleArn: pulumi.Input<string>;
  readonly pools: readonly GpuPoolConfig[];
  readonly tags: Record<string, string>;
  /** The eks-pod-identity-agent add-on. */
  readonly agent: pulumi.Resource;
}

export class KarpenterAws extends pulumi.ComponentResource {
  static readonly TYPE = "inference-platform:cluster:KarpenterAws";
  readonly controllerRole: PodIdentityRole;
  /** Placement group names by pool. */
  readonly placementGroups: Record<string, pulumi.Output<string>> = {};

  constructor(name: string, args: KarpenterAwsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(KarpenterAws.TYPE, name, {}, opts);
    const parent = { parent: this };
    const queue = new aws.sqs.Queue(
      `${name}-interruptions`,
      {
        name: interruptionQueueName(args.clusterName),
        messageRetentionSeconds: INTERRUPTION_QUEUE.messageRetentionSeconds,
        sqsManagedSseEnabled: INTERRUPTION_QUEUE.sqsManagedSseEnabled,
        tags: args.tags,
      },
      parent,
    );
    new aws.sqs.QueuePolicy(
      `${name}-interruptions`,
      { queueUrl: queue.url, policy: queue.arn.apply(interruptionQueuePolicy) },
      parent,
    );
    for (const [key, event] of Object.entries(INTERRUPTION_EVENTS)) {
      const rule = new aws.cloudwatch.EventRule(
        `${name}-${key}`,
        { eventPattern: interruptionEventPattern(event), tags: args.tags },
        parent,
      );
      new aws.cloudwatch.EventTarget(`${name}-${key}`, { rule: rule.name, arn: queue.arn }, parent);
    }
    this.controllerRole = new PodIdentityRole(
      "karpenter",
      {
        clusterName: args.clusterName,
        namespace: KARPENTER_NAMESPACE,
        serviceAccount: KARPENTER_SA,
        policy: pulumi.all([queue.arn, args.nodeRoleArn]).apply(([queueArn, nodeRoleArn]) =>
          karpenterControllerPolicy({
            clusterName: args.clusterName,
            region: args.region,
            accountId: nodeRoleArn.split(":")[4] ?? "*",
            queueArn,
            nodeRoleArn,
          }),
        ),
        tags: args.tags,
        agent: args.agent,
      },
      parent,
    );
    for (const pool of args.pools.filter((p) => p.placementGroup)) {
      this.placementGroups[pool.name] = new aws.ec2.PlacementGroup(
        `${name}-${pool.name}-pg`,
        { strategy: "cluster", tags: args.tags },
        parent,
      ).name;
    }
    this.registerOutputs({ queueName: queue.name });
  }
}
