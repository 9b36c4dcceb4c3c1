/**
 * inference-platform: composition only. Config → cluster (or an existing one) → add-ons in order →
 * one ModelDeployment per model. Every decision is made in config/ and models/; components/ register.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "./config/stackConfig";
import { EksCluster } from "./components/cluster";
import { GpuNodeGroup } from "./components/gpuNodeGroup";
import { KarpenterAws } from "./components/karpenterAws";
import { eksProvider, existingClusterProvider } from "./components/kubernetesProvider";
import { ModelDeployment } from "./components/modelDeployment";
import { Network } from "./components/network";
import { PlatformAddons } from "./components/platformAddons";
import { PodIdentityRole } from "./components/podIdentityRole";
import { registerObject, objectResourceName } from "./components/k8sObject";
import { addonContext, type KarpenterNodeInputs } from "./models/addons";
import { CLUSTER_AUTOSCALER_SA } from "./models/addons/clusterAutoscaler";
import { PROMETHEUS_SERVICE_ACCOUNT, PROMETHEUS_URL } from "./models/addons/monitoring";
import { ampPolicy, clusterAutoscalerPolicy, loadBalancerControllerPolicy } from "./models/cluster/iam";
import { LOAD_BALANCER_CONTROLLER_SA } from "./models/addons/loadBalancerController";
import { planNetwork, stackZones } from "./models/cluster/network";
import { ampTriggerAuthentication, type PrometheusTarget } from "./models/serving/autoscaling";
import { modelObjects } from "./models/serving/modelObjects";
import { namespaceObjects, secretObject, secretObjectName } from "./models/serving/namespace";
import { protectByDefault, resolveModel } from "./models/serving/resolve";
import { ENVIRONMENT_LABEL } from "./models/k8s";

export = async () => {
  const { config: cfg, secrets, deploy } = loadStackConfig();
  const protect = cfg.cluster.protect ?? protectByDefault(cfg.environment);
  const tags = {
    "inference-platform/stack": pulumi.getStack(),
    [ENVIRONMENT_LABEL]: cfg.environment,
  };
  const models = cfg.models.map((m) => resolveModel(m, cfg));

  let provider;
  // For the add-on namespaces, which Helm created on stacks deployed before the platform owned them.
  let adoptingProvider;
  let eksCluster: EksCluster | undefined;
  let ampWorkspace: aws.amp.Workspace | undefined;
  let vpcId: pulumi.Output<string> | undefined;
  const prerequisites: ConstructorParameters<typeof PlatformAddons>[1]["prerequisites"] = {};
  const nodeGroups: GpuNodeGroup[] = [];
  let karpenterNodes: KarpenterNodeInputs | undefined;
  if (cfg.cluster.mode === "eks") {
    const zones = stackZones(cfg);
    const natPerZone = cfg.network.natGateways
      ? cfg.network.natGateways === "perAz"
      : cfg.environment === "prod";
    const network = new Network("network", {
      cidr: cfg.network.cidr,
      plan: planNetwork({ cidr: cfg.network.cidr, zones, clusterName: cfg.cluster.name, natPerZone }),
      protect,
      tags,
    });
    eksCluster = new EksCluster("cluster", {
      config: cfg.cluster,
      region: cfg.region,
      vpcId: network.vpcId,
      privateSubnetIds: network.privateSubnetIds,
      publicSubnetIds: network.publicSubnetIds,
      protect,
      tags,
    });
    // Under Karpenter the GPU pools are NodePools (applied with its release); else managed node groups.
    for (const pool of cfg.cluster.nodeAutoscaler === "karpenter" ? [] : cfg.gpuPools) {
      nodeGroups.push(
        new GpuNodeGroup(`gpu-${pool.name}`, {
          pool,
          clusterName: cfg.cluster.name,
          nodeRoleArn: eksCluster.nodeRole.arn,
          subnetIds: network.privateSubnetIds,
          tags,
          dependsOn: [eksCluster],
        }),
      );
    }
    provider = eksProvider("k8s", eksCluster.kubeconfig, { pluginVersion: deploy.kubernetesProviderVersion });
    adoptingProvider = eksProvider("k8s-adopt", eksCluster.kubeconfig, {
      pluginVersion: deploy.kubernetesProviderVersion,
      adopt: true,
    });
    vpcId = network.vpcId;
    prerequisites["aws-load-balancer-controller"] = [
      new PodIdentityRole("aws-load-balancer-controller", {
        clusterName: cfg.cluster.name,
        namespace: "kube-system",
        serviceAccount: LOAD_BALANCER_CONTROLLER_SA,
        policy: loadBalancerControllerPolicy(),
        tags,
        agent: eksCluster.podIdentityAgent,
      }),
    ];
    if (cfg.cluster.nodeAutoscaler === "cluster-autoscaler") {
      const caRole = new PodIdentityRole("cluster-autoscaler", {
        clusterName: cfg.cluster.name,
        namespace: "kube-system",
        serviceAccount: CLUSTER_AUTOSCALER_SA,
        policy: clusterAutoscalerPolicy(cfg.cluster.name),
        tags,
        agent: eksCluster.podIdentityAgent,
      });
      prerequisites["cluster-autoscaler"] = [caRole];
    }
    if (cfg.cluster.nodeAutoscaler === "karpenter") {
      const karpenterAws = new KarpenterAws("karpenter", {
        clusterName: cfg.cluster.name,
        region: cfg.region,
        nodeRoleArn: eksCluster.nodeRole.arn,
        pools: cfg.gpuPools,
        tags,
        agent: eksCluster.podIdentityAgent,
      });
      prerequisites["karpenter"] = [karpenterAws.controllerRole];
      karpenterNodes = {
        nodeRoleName: eksCluster.nodeRole.name,
        subnetIds: network.privateSubnetIds,
        securityGroupId: eksCluster.eksClusterSecurityGroupId,
        tags,
        placementGroups: karpenterAws.placementGroups,
      };
    }
    if (cfg.addons.monitoring.amp) {
      ampWorkspace = new aws.amp.Workspace("amp", { alias: cfg.cluster.name, tags }, { protect });
      const writer = new PodIdentityRole("prometheus-amp", {
        clusterName: cfg.cluster.name,
        namespace: "monitoring",
        serviceAccount: PROMETHEUS_SERVICE_ACCOUNT,
        policy: ampWorkspace.arn.apply((arn) => ampPolicy(arn, ["aps:RemoteWrite"])),
        tags,
        agent: eksCluster.podIdentityAgent,
      });
      const reader = new PodIdentityRole("keda-amp", {
        clusterName: cfg.cluster.name,
        namespace: "keda",
        serviceAccount: "keda-operator",
        policy: ampWorkspace.arn.apply((arn) =>
          ampPolicy(arn, ["aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata"]),
        ),
        tags,
        agent: eksCluster.podIdentityAgent,
      });
      prerequisites["kube-prometheus-stack"] = [writer];
      prerequisites["keda"] = [reader];
    }
  } else {
    pulumi.log.info(
      `existing-cluster mode: no AWS resources; GPU add-ons (device plugin, DCGM exporter) and the node autoscaler are skipped`,
    );
    const clusterAccess = { kubeconfig: secrets.kubeconfig, context: cfg.cluster.context };
    provider = existingClusterProvider("k8s", clusterAccess, {
      pluginVersion: deploy.kubernetesProviderVersion,
    });
    adoptingProvider = existingClusterProvider("k8s-adopt", clusterAccess, {
      pluginVersion: deploy.kubernetesProviderVersion,
      adopt: true,
    });
  }

  const addons = new PlatformAddons("addons", {
    context: addonContext(cfg, models, {
      ampRemoteWriteUrl: ampWorkspace
        ? pulumi.interpolate`${ampWorkspace.prometheusEndpoint}api/v1/remote_write`
        : undefined,
      vpcId,
      alertReceiverCredential: cfg.addons.monitoring.alerts
        ? secrets[cfg.addons.monitoring.alerts.secret]
        : undefined,
      karpenterNodes,
    }),
    provider,
    namespaceProvider: adoptingProvider,
    protect,
    deploy,
    prerequisites,
    clusterReady: eksCluster ? [eksCluster.systemNodeGroup] : [],
  });

  const prometheus: PrometheusTarget = ampWorkspace
    ? {
        serverAddress: ampWorkspace.prometheusEndpoint.apply((u) => u.replace(/\/$/, "")),
        awsRegion: cfg.region,
      }
    : { serverAddress: PROMETHEUS_URL };

  // Namespaces with their security objects and the secrets their models reference.
  const namespaceReady = new Map<string, pulumi.Resource[]>();
  for (const ns of [...new Set(models.map((m) => m.namespace))].sort()) {
    const objects = namespaceObjects(
      ns,
      cfg.environment,
      cfg.cluster.kubernetesVersion,
      models.some((m) => m.namespace === ns && m.llmd !== undefined),
    );
    const needed = [
      ...new Set(models.filter((m) => m.namespace === ns && m.hfTokenSecret).map((m) => m.hfTokenSecret!)),
    ].sort();
    for (const name of needed) objects.push(secretObject(ns, name, secrets[name]!));
    if (ampWorkspace) objects.push(ampTriggerAuthentication(ns));
    const [namespace, ...rest] = objects;
    const nsResource = registerObject(`ns-${ns}`, namespace!, { provider, dependsOn: addons.servingReady() });
    namespaceReady.set(ns, [
      nsResource,
      ...rest.map((o) =>
        registerObject(objectResourceName(o), o, {
          provider,
          dependsOn: [nsResource, ...addons.servingReady()],
        }),
      ),
    ]);
  }
  const secretObjectNames = Object.fromEntries(cfg.secretNames.map((n) => [n, secretObjectName(n)]));
  for (const model of models) {
    const objects = modelObjects(model, {
      region: cfg.region,
      domain: cfg.addons.kserve.domain,
      prometheus,
      secretObjectNames,
    });
    new ModelDeployment(`model-${model.name}`, {
      objects,
      namespace: model.namespace,
      provider,
      dependsOn: [...addons.servingReady(), ...(namespaceReady.get(model.namespace) ?? []), ...nodeGroups],
      aws: eksCluster
        ? { clusterName: cfg.cluster.name, agent: eksCluster.podIdentityAgent, tags }
        : undefined,
    });
  }

  // The NLB the gateway Service gets (internal unless addons.istio.publicIngress): read once the release is up.
  const gateway = addons.installed.get("istio-ingressgateway");
  const ingressService = gateway
    ? k8s.core.v1.Service.get(
        "ingress-gateway-service",
        pulumi.interpolate`${gateway.release.status.namespace}/${gateway.release.status.name}`,
        { provider, dependsOn: [gateway.release] },
      )
    : undefined;

  return {
    clusterName: cfg.cluster.name,
    ...(eksCluster ? { kubeconfig: eksCluster.kubeconfig, oidcIssuer: eksCluster.oidcIssuer } : {}),
    nodeGroups: nodeGroups.map((g) => g.nodeGroup.nodeGroupName),
    ingressGateway: "istio-system/inference-gateway",
    ingressEndpoint: ingressService?.status.apply(
      (s) => s?.loadBalancer?.ingress?.[0]?.hostname ?? s?.loadBalancer?.ingress?.[0]?.ip ?? "pending",
    ),
    models: models.map((m) => ({
      name: m.name,
      namespace: m.namespace,
      runtime: m.runtime,
      mode: m.deploymentMode,
      host: `${m.name}.${m.namespace}.${cfg.addons.kserve.domain}`,
    })),
    // The capacity planner's decisions: placement, memory, KV capacity and cost per model, and totals.
    capacity: cfg.capacity,
    // Image CUDA against node drivers, and the other compatibility verdicts.
    compat: cfg.compat,
    // Predicted seconds for a new replica to serve, step by step, with the figures' sources.
    timeToReady: cfg.models.flatMap((m) => (m.timeToReady ? [m.timeToReady] : [])),
  };
};
