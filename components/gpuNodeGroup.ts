/**
 * One managed node group per GPU pool: NVIDIA AMI, GPU taint and labels, IMDSv2, gp3 root disk,
 * optional EFA and cluster placement group, and the Cluster Autoscaler node-template tags on the
 * group's ASG so an empty pool can scale from zero.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { GpuPoolConfig } from "../config/schema";
import { DEVICE_PLUGIN_LABEL } from "../models/addons/gpu";
import {
  amiTypeFor,
  clusterAutoscalerTags,
  gpuNodeLabels,
  GPU_TAINT_EKS,
  NODE_GROUP_UPDATE,
  nodeLocalStorageUserData,
  poolSubnets,
  scalingConfig,
} from "../models/cluster/nodePools";
import { NODE_METADATA_OPTIONS } from "../models/cluster/instanceMetadata";

export interface GpuNodeGroupArgs {
  readonly pool: GpuPoolConfig;
  readonly clusterName: string;
  readonly nodeRoleArn: pulumi.Input<string>;
  readonly subnetIds: pulumi.Input<string>[];
  readonly tags: Record<string, string>;
  readonly dependsOn: pulumi.Resource[];
}

export class GpuNodeGroup extends pulumi.ComponentResource {
  static readonly TYPE = "inference-platform:cluster:GpuNodeGroup";
  readonly nodeGroup: aws.eks.NodeGroup;

  constructor(name: string, args: GpuNodeGroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super(GpuNodeGroup.TYPE, name, {}, opts);
    const { pool } = args;
    const parent = { parent: this };
    const ami = amiTypeFor(pool.os, pool.instanceTypes[0] ?? "", true);
    if (!ami.amiType) throw new Error(`gpu pool ${pool.name}: ${ami.error}`);
    const placementGroup = pool.placementGroup
      ? new aws.ec2.PlacementGroup(`${name}-pg`, { strategy: "cluster", tags: args.tags }, parent)
      : undefined;
    const localStorage = nodeLocalStorageUserData(pool);
    const lt = new aws.ec2.LaunchTemplate(
      `${name}-lt`,
      {
        metadataOptions: NODE_METADATA_OPTIONS,
        // Instance-store NVMe for images and the model cache, where the instance type has it.
        ...(localStorage ? { userData: localStorage } : {}),
        blockDeviceMappings: [
          {
            deviceName: pool.os === "bottlerocket" ? "/dev/xvdb" : "/dev/xvda",
            ebs: {
              volumeSize: pool.diskSizeGiB,
              volumeType: "gp3",
              iops: 6000,
              throughput: 500,
              encrypted: "true",
              deleteOnTermination: "true",
            },
          },
        ],
        ...(pool.efa
          ? { networkInterfaces: [{ interfaceType: "efa", deviceIndex: 0, deleteOnTermination: "true" }] }
          : {}),
        ...(placementGroup ? { placement: { groupName: placementGroup.name } } : {}),
        tagSpecifications: [
          { resourceType: "instance", tags: { ...args.tags, Name: `${args.clusterName}-${pool.name}` } },
        ],
      },
      parent,
    );
    const labels = {
      ...gpuNodeLabels(pool),
      ...(pool.os === "al2023" ? { [DEVICE_PLUGIN_LABEL]: "daemonset" } : {}),
    };
    this.nodeGroup = new aws.eks.NodeGroup(
      `${name}-ng`,
      {
        clusterName: args.clusterName,
        nodeGroupNamePrefix: `${args.clusterName}-${pool.name}-`,
        nodeRoleArn: args.nodeRoleArn,
        subnetIds: poolSubnets(pool, args.subnetIds),
        instanceTypes: pool.instanceTypes,
        amiType: ami.amiType,
        ...(pool.releaseVersion ? { releaseVersion: pool.releaseVersion } : {}),
        capacityType: pool.capacityType,
        scalingConfig: scalingConfig(pool),
        updateConfig: NODE_GROUP_UPDATE,
        launchTemplate: { id: lt.id, version: pulumi.interpolate`${lt.latestVersion}` },
        labels,
        taints: [GPU_TAINT_EKS],
        tags: { ...args.tags, ...clusterAutoscalerTags(pool, args.clusterName) },
      },
      { ...parent, dependsOn: args.dependsOn, ignoreChanges: ["scalingConfig.desiredSize"] },
    );
    // Managed node group tags don't reach the ASG: mirror the node-template tags onto it.
    const asgName = this.nodeGroup.resources.apply((r) => r[0]?.autoscalingGroups?.[0]?.name ?? "");
    for (const [key, value] of Object.entries(clusterAutoscalerTags(pool, args.clusterName))) {
      new aws.autoscaling.Tag(
        `${name}-asg-${key.replace(/[^A-Za-z0-9]+/g, "-")}`,
        { autoscalingGroupName: asgName, tag: { key, value, propagateAtLaunch: false } },
        parent,
      );
    }
    this.registerOutputs({ nodeGroupName: this.nodeGroup.nodeGroupName });
  }
}
