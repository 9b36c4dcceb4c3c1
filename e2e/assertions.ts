/**
 * What the real controllers did with the plan (run after deployPlan with LocalControllers): every
 * Standard-mode InferenceService Ready with the Deployment and Service KServe derives; each name the
 * platform's VirtualServices, DestinationRules, ScaledObjects and disruption budgets target resolves to
 * an object that exists; KServe created no HPA where the platform owns autoscaling; each ScaledObject Ready
 * with an HPA on the predictor within the configured bounds; TrainedModels loaded into their server's
 * model config. Knative-mode models are reported, not asserted, when Knative Serving does not run.
 */
import type { Plan } from "../tools/planRunner";
import { ApiError, Kube, waitFor, type KubeObject } from "./kube";
import { describeObject } from "./deploy";

type Conditions = Array<{ type: string; status: string; reason?: string; message?: string }>;
const conditionsOf = (o: KubeObject | undefined): Conditions =>
  (o?.status as { conditions?: Conditions } | undefined)?.conditions ?? [];
const isTrue = (o: KubeObject | undefined, type: string) =>
  conditionsOf(o).some((c) => c.type === type && c.status === "True");
const explain = (o: KubeObject | undefined) =>
  conditionsOf(o)
    .filter((c) => c.status !== "True")
    .map(
      (c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ""})` : ""}`,
    )
    .join("; ") || "no conditions";

export interface AssertionReport {
  readonly errors: string[];
  readonly notes: string[];
  readonly checked: number;
}

function plannedOfKind(plan: Plan, kind: string): KubeObject[] {
  return plan.objects.filter((o) => o.object.kind === kind).map((o) => o.object as unknown as KubeObject);
}

export async function assertReconciled(
  kube: Kube,
  plan: Plan,
  opts: { knativeRuns: boolean; timeoutMs?: number },
): Promise<AssertionReport> {
  const errors: string[] = [];
  const notes: string[] = [];
  let checked = 0;
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const get = (apiVersion: string, kind: string, name: string, namespace?: string) =>
    kube.get(apiVersion, kind, name, namespace).catch((err) => {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    });
  const expect = async (
    what: string,
    ok: boolean | Promise<boolean>,
    why: () => string | Promise<string>,
  ) => {
    checked++;
    if (!(await ok)) errors.push(`${what}: ${await why()}`);
  };

  /** Waits for `check`, explaining a timeout by the InferenceService's conditions; counts or records it. */
  const waitExplained = async (
    isvc: KubeObject,
    what: string,
    check: () => Promise<unknown>,
  ): Promise<boolean> => {
    const { name, namespace } = isvc.metadata;
    try {
      await waitFor(what, check, {
        timeoutMs,
        intervalMs: 1000,
        describe: async () => explain(await get(isvc.apiVersion, "InferenceService", name, namespace)),
      });
      checked++;
      return true;
    } catch (err) {
      errors.push((err as Error).message);
      return false;
    }
  };

  /**
   * What KServe and Knative's real webhook and controller make of a Knative-mode model: the Knative
   * Service `<isvc>-predictor` (KServe's, admitted by Knative's webhook — the pod-spec field mask lives
   * there), its first Revision and that Revision's Deployment. Not Ready: the Knative autoscaler and
   * net-istio do not run here, so Revisions stay "Deploying" and Routes get no ingress.
   */
  const knativeChain = async (isvc: KubeObject) => {
    const { name, namespace } = isvc.metadata;
    const ksvc = `${name}-predictor`;
    const chain: Array<[string, string, string]> = [
      ["serving.knative.dev/v1", "Service", ksvc],
      ["serving.knative.dev/v1", "Revision", `${ksvc}-00001`],
      ["apps/v1", "Deployment", `${ksvc}-00001-deployment`],
    ];
    for (const [apiVersion, kind, objName] of chain) {
      const found = await waitExplained(
        isvc,
        `${describeObject(isvc)}: Knative ${kind} ${namespace}/${objName}`,
        async () => get(apiVersion, kind, objName, namespace),
      );
      if (!found) return;
    }
    notes.push(
      `${describeObject(isvc)}: Knative Service, Revision and Deployment created; Ready not asserted (no Knative autoscaler or net-istio here)`,
    );
  };

  const standard = new Set<string>();
  for (const isvc of plannedOfKind(plan, "InferenceService")) {
    const { name, namespace } = isvc.metadata;
    const mode = isvc.metadata.annotations?.["serving.kserve.io/deploymentMode"];
    if (mode === "Knative" && !opts.knativeRuns) {
      notes.push(
        `${describeObject(isvc)}: Knative mode, not asserted Ready (Knative Serving does not run in this e2e)`,
      );
      continue;
    }
    if (mode === "Knative") {
      await knativeChain(isvc);
      continue;
    }
    if (mode === "Standard") standard.add(`${namespace}/${name}`);
    const ready = await waitExplained(isvc, `${describeObject(isvc)} Ready`, async () => {
      const o = await get(isvc.apiVersion, "InferenceService", name, namespace);
      return isTrue(o, "Ready") ? o : undefined;
    });
    if (!ready) continue;
    if (mode !== "Standard") continue;
    // The objects KServe derives in Standard mode: <isvc>-predictor Deployment and Service.
    const predictor = `${name}-predictor`;
    await expect(
      `${describeObject(isvc)}: KServe's Deployment ${namespace}/${predictor}`,
      get("apps/v1", "Deployment", predictor, namespace).then(Boolean),
      () => "does not exist",
    );
    await expect(
      `${describeObject(isvc)}: KServe's Service ${namespace}/${predictor}`,
      get("v1", "Service", predictor, namespace).then(Boolean),
      () => "does not exist",
    );
    const scalerClass = isvc.metadata.annotations?.["serving.kserve.io/autoscalerClass"];
    const hpa = await get("autoscaling/v2", "HorizontalPodAutoscaler", predictor, namespace);
    if (scalerClass === "external")
      await expect(
        `${describeObject(isvc)}: no HPA of KServe's own (the platform owns autoscaling)`,
        !hpa,
        () => `KServe created HPA ${namespace}/${predictor}`,
      );
    if (scalerClass === "hpa") {
      const p = (isvc.spec as { predictor: { minReplicas?: number; maxReplicas?: number } }).predictor;
      const spec = (hpa?.spec ?? {}) as { minReplicas?: number; maxReplicas?: number };
      await expect(
        `${describeObject(isvc)}: KServe's HPA ${namespace}/${predictor} with the configured bounds`,
        !!hpa && spec.minReplicas === p.minReplicas && spec.maxReplicas === p.maxReplicas,
        () =>
          hpa
            ? `bounds ${spec.minReplicas}..${spec.maxReplicas}, planned ${p.minReplicas}..${p.maxReplicas}`
            : "missing",
      );
    }
  }

  // The predictor pods as KServe's pod mutator left them: the storage initializer with its credentials,
  // the metrics annotations Istio merges, and the model name the server registers.
  for (const isvc of plannedOfKind(plan, "InferenceService")) {
    const { name, namespace } = isvc.metadata;
    if (!standard.has(`${namespace}/${name}`)) continue;
    const predictor = (isvc.spec as { predictor: Record<string, unknown> }).predictor;
    const model = predictor.model as { storageUri?: string; env?: Array<{ name: string }> };
    const pods = await kube.list("v1", "Pod", {
      namespace,
      labelSelector: `serving.kserve.io/inferenceservice=${name},component=predictor`,
    });
    await expect(`${describeObject(isvc)}: predictor pods`, pods.length > 0, () => "none exist");
    const pod = pods[0];
    if (!pod) continue;
    const spec = pod.spec as {
      initContainers?: Array<{
        name: string;
        env?: Array<{ name: string; valueFrom?: { secretKeyRef?: { key: string } } }>;
      }>;
      containers: Array<{ name: string; args?: string[] }>;
    };
    const init = (spec.initContainers ?? []).find((c) => c.name === "storage-initializer") as
      | {
          name: string;
          args?: string[];
          env?: Array<{ name: string; valueFrom?: { secretKeyRef?: { key: string } } }>;
        }
      | undefined;
    // What the pod downloads: the model's storageUri, or the predictor's storageUris (LoRA adapters).
    const storageUris =
      (predictor.storageUris as Array<{ uri: string; mountPath: string }> | undefined) ?? [];
    const uris = [...(model.storageUri ? [model.storageUri] : []), ...storageUris.map((u) => u.uri)];
    if (uris.length > 0)
      await expect(
        `${describeObject(isvc)}: KServe injected its storage initializer`,
        !!init,
        () => `pod ${pod.metadata.name} has none`,
      );
    for (const u of storageUris)
      await expect(
        `${describeObject(isvc)}: the storage initializer fetches ${u.uri} into ${u.mountPath}`,
        (init?.args ?? []).some((a, i, all) => a === u.uri && all[i + 1] === u.mountPath),
        () => `its args are ${JSON.stringify(init?.args ?? [])}`,
      );
    if (uris.some((u) => u.startsWith("hf://")) && (model.env ?? []).some((e) => e.name === "HF_TOKEN")) {
      const token = init?.env?.find((e) => e.name === "HF_TOKEN");
      await expect(
        `${describeObject(isvc)}: the storage initializer gets the Hugging Face token (key HF_TOKEN of a Secret the ServiceAccount lists)`,
        token?.valueFrom?.secretKeyRef?.key === "HF_TOKEN",
        () =>
          `pod ${pod.metadata.name}'s storage-initializer has ${token ? JSON.stringify(token) : "no HF_TOKEN"}`,
      );
    }
    const wantPort = (predictor.annotations as Record<string, string> | undefined)?.["prometheus.io/port"];
    if (wantPort) {
      const got = pod.metadata.annotations?.["prometheus.io/port"];
      await expect(
        `${describeObject(isvc)}: pods keep prometheus.io/port ${wantPort} (what Istio merges)`,
        got === wantPort,
        () => `KServe set it to ${got}`,
      );
    }
    const args = spec.containers.find((c) => c.name === "kserve-container")?.args ?? [];
    const named = args.filter((a) => a.startsWith("--model_name=")).pop();
    const modelName = isvc.metadata.labels?.["inference-platform/model"];
    if (named && modelName)
      await expect(
        `${describeObject(isvc)}: the server registers the model as ${modelName}`,
        named === `--model_name=${modelName}`,
        () => `the effective flag (runtime args, then InferenceService args) is ${named}`,
      );
  }

  // Every Service the platform routes to exists (Standard mode: KServe created it, with the name the platform derived).
  const serviceOf = (host: string) => {
    const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local$/.exec(host);
    return m ? { name: m[1]!, namespace: m[2]! } : undefined;
  };
  for (const vs of plannedOfKind(plan, "VirtualService")) {
    const hosts = new Set<string>();
    for (const route of (
      vs.spec as {
        http?: Array<{ route?: Array<{ destination: { host: string } }>; mirror?: { host: string } }>;
      }
    ).http ?? []) {
      for (const r of route.route ?? []) hosts.add(r.destination.host);
      if (route.mirror) hosts.add(route.mirror.host);
    }
    for (const host of hosts) {
      const svc = serviceOf(host);
      if (!svc) continue;
      await expect(
        `${describeObject(vs)} routes to ${host}`,
        get("v1", "Service", svc.name, svc.namespace).then(Boolean),
        () => "no such Service exists",
      );
    }
  }
  for (const dr of plannedOfKind(plan, "DestinationRule")) {
    const svc = serviceOf((dr.spec as { host: string }).host);
    if (svc)
      await expect(
        `${describeObject(dr)} host`,
        get("v1", "Service", svc.name, svc.namespace).then(Boolean),
        () => `no Service ${svc.namespace}/${svc.name}`,
      );
  }
  for (const so of plannedOfKind(plan, "ScaledObject")) {
    const { name, namespace } = so.metadata;
    const spec = so.spec as {
      scaleTargetRef: { name: string };
      minReplicaCount: number;
      maxReplicaCount: number;
    };
    await expect(
      `${describeObject(so)} targets Deployment ${spec.scaleTargetRef.name}`,
      get("apps/v1", "Deployment", spec.scaleTargetRef.name, namespace).then(Boolean),
      () => "which does not exist",
    );
    try {
      await waitFor(
        `${describeObject(so)} Ready`,
        async () =>
          isTrue(await get("keda.sh/v1alpha1", "ScaledObject", name, namespace), "Ready") ? true : undefined,
        {
          timeoutMs: 60_000,
          describe: async () => explain(await get("keda.sh/v1alpha1", "ScaledObject", name, namespace)),
        },
      );
      checked++;
    } catch (err) {
      errors.push((err as Error).message);
    }
    const hpa = await get("autoscaling/v2", "HorizontalPodAutoscaler", `keda-hpa-${name}`, namespace);
    const h = (hpa?.spec ?? {}) as {
      scaleTargetRef?: { name: string };
      minReplicas?: number;
      maxReplicas?: number;
    };
    await expect(
      `${describeObject(so)}: KEDA's HPA keda-hpa-${name} on the predictor within ${spec.minReplicaCount}..${spec.maxReplicaCount}`,
      !!hpa &&
        h.scaleTargetRef?.name === spec.scaleTargetRef.name &&
        h.maxReplicas === spec.maxReplicaCount &&
        (h.minReplicas ?? 1) === Math.max(1, spec.minReplicaCount),
      () => (hpa ? `targets ${h.scaleTargetRef?.name} with ${h.minReplicas}..${h.maxReplicas}` : "missing"),
    );
  }
  for (const pdb of plannedOfKind(plan, "PodDisruptionBudget")) {
    const sel = (pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
    const isvc = sel["serving.kserve.io/inferenceservice"];
    if (!isvc || !standard.has(`${pdb.metadata.namespace}/${isvc}`)) continue;
    const labelSelector = Object.entries(sel)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    await expect(
      `${describeObject(pdb)} selects the predictor's pods`,
      kube.list("v1", "Pod", { namespace: pdb.metadata.namespace, labelSelector }).then((p) => p.length > 0),
      () => `no pod matches ${labelSelector}`,
    );
  }
  // TrainedModels: KServe's model agent reads them from the server's model config ConfigMap.
  for (const tm of plannedOfKind(plan, "TrainedModel")) {
    const host = (tm.spec as { inferenceService: string }).inferenceService;
    const ns = tm.metadata.namespace!;
    if (!standard.has(`${ns}/${host}`)) {
      notes.push(
        `${describeObject(tm)}: its server ${host} is not a Standard-mode model asserted here; not checked`,
      );
      continue;
    }
    try {
      await waitFor(
        `${describeObject(tm)} in KServe's model config of ${host}`,
        async () => {
          const cm = await get("v1", "ConfigMap", `modelconfig-${host}-0`, ns);
          const models = JSON.parse(
            (cm?.data as Record<string, string> | undefined)?.["models.json"] ?? "[]",
          ) as Array<{ modelName: string }>;
          return models.some((m) => m.modelName === tm.metadata.name) ? true : undefined;
        },
        {
          timeoutMs: 60_000,
          describe: async () =>
            explain(await get("serving.kserve.io/v1alpha1", "TrainedModel", tm.metadata.name, ns)),
        },
      );
      checked++;
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  return { errors, notes, checked };
}
