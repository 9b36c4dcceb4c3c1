/**
 * A small Kubernetes API client for the e2e: kubeconfig loading and auth come from
 * @kubernetes/client-node; requests are plain HTTPS so the e2e controls exactly what the API server
 * sees (server-side apply with `fieldValidation=Strict`, discovery refreshed after CRDs land).
 */
import * as https from "node:https";
import { KubeConfig } from "@kubernetes/client-node";

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

interface ResourceInfo {
  readonly plural: string;
  readonly namespaced: boolean;
}

export const FIELD_MANAGER = "inference-platform-e2e";

export class Kube {
  private readonly kc: KubeConfig;
  private readonly server: string;
  private discovery = new Map<string, ResourceInfo>();

  constructor(kubeconfigPath: string, context?: string) {
    this.kc = new KubeConfig();
    this.kc.loadFromFile(kubeconfigPath);
    if (context) this.kc.setCurrentContext(context);
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error(`${kubeconfigPath}: no current cluster`);
    this.server = cluster.server.replace(/\/$/, "");
  }

  /** One API request; JSON in and out. Non-2xx answers throw an ApiError with the server's message. */
  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
  ): Promise<T> {
    const url = new URL(this.server + path);
    const opts: https.RequestOptions = {
      method,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      headers: { Accept: "application/json", ...(body !== undefined ? { "Content-Type": contentType } : {}) },
    };
    await this.kc.applyToHTTPSOptions(opts);
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = https.request(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      });
      req.on("error", reject);
      req.setTimeout(120_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // plain-text answers (e.g. /readyz)
    }
    if (status < 200 || status >= 300) {
      const s = parsed as { message?: string; reason?: string } | undefined;
      throw new ApiError(
        status,
        s?.reason ?? "",
        s?.message ?? `${method} ${path}: HTTP ${status} ${text.slice(0, 200)}`,
      );
    }
    return parsed as T;
  }

  /** Forgets discovery (after CRDs or APIServices were added). */
  refreshDiscovery(): void {
    this.discovery.clear();
  }

  private async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const key = `${apiVersion}/${kind}`;
    const cached = this.discovery.get(key);
    if (cached) return cached;
    const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    let list: { resources: Array<{ name: string; kind: string; namespaced: boolean }> };
    try {
      list = await this.request(base === "/api/v1" ? "GET" : "GET", base);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404)
        throw new ApiError(
          404,
          "NotFound",
          `the API server does not serve ${apiVersion} (is its CRD installed?)`,
        );
      throw err;
    }
    for (const r of list.resources) {
      if (r.name.includes("/")) continue;
      this.discovery.set(`${apiVersion}/${r.kind}`, { plural: r.name, namespaced: r.namespaced });
    }
    const found = this.discovery.get(key);
    if (!found)
      throw new ApiError(404, "NotFound", `the API server serves ${apiVersion} but has no kind ${kind}`);
    return found;
  }

  /** The REST path of an object (or of its collection when `name` is left out). */
  async path(apiVersion: string, kind: string, namespace?: string, name?: string): Promise<string> {
    const r = await this.resource(apiVersion, kind);
    const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = r.namespaced ? `/namespaces/${namespace ?? "default"}` : "";
    return `${base}${ns}/${r.plural}${name ? `/${name}` : ""}`;
  }

  async isNamespaced(apiVersion: string, kind: string): Promise<boolean> {
    return (await this.resource(apiVersion, kind)).namespaced;
  }

  /**
   * Server-side apply with strict field validation: an unknown or duplicated field is an error, never
   * silently pruned. Returns the object as the server stored it (after defaulting and admission).
   */
  async apply(
    obj: KubeObject,
    opts: { dryRun?: boolean; subresource?: string; fieldManager?: string } = {},
  ): Promise<KubeObject> {
    const p = await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    const query = new URLSearchParams({
      fieldManager: opts.fieldManager ?? FIELD_MANAGER,
      fieldValidation: "Strict",
      force: "true",
    });
    if (opts.dryRun) query.set("dryRun", "All");
    const sub = opts.subresource ? `/${opts.subresource}` : "";
    return this.request<KubeObject>("PATCH", `${p}${sub}?${query}`, obj, "application/apply-patch+yaml");
  }

  /** Plain create (POST): for objects whose status must be set at creation, like a kubelet's Node. */
  async create(obj: KubeObject): Promise<KubeObject> {
    const p = await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace);
    return this.request<KubeObject>("POST", `${p}?fieldManager=${FIELD_MANAGER}&fieldValidation=Strict`, obj);
  }

  async get(
    apiVersion: string,
    kind: string,
    name: string,
    namespace?: string,
  ): Promise<KubeObject | undefined> {
    try {
      return await this.request<KubeObject>("GET", await this.path(apiVersion, kind, namespace, name));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async list(
    apiVersion: string,
    kind: string,
    opts: { namespace?: string; labelSelector?: string } = {},
  ): Promise<KubeObject[]> {
    const r = await this.resource(apiVersion, kind);
    const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = r.namespaced && opts.namespace ? `/namespaces/${opts.namespace}` : "";
    const q = opts.labelSelector ? `?labelSelector=${encodeURIComponent(opts.labelSelector)}` : "";
    const out = await this.request<{ items: KubeObject[] }>("GET", `${base}${ns}/${r.plural}${q}`);
    return out.items.map((i) => ({ ...i, apiVersion, kind }));
  }

  async delete(apiVersion: string, kind: string, name: string, namespace?: string): Promise<void> {
    try {
      await this.request("DELETE", await this.path(apiVersion, kind, namespace, name), {
        propagationPolicy: "Background",
      });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
  }

  /** JSON merge patch (for status and small edits the e2e makes, never for planned objects). */
  async mergePatch(
    apiVersion: string,
    kind: string,
    name: string,
    namespace: string | undefined,
    patch: unknown,
    subresource?: string,
  ): Promise<KubeObject> {
    const p = await this.path(apiVersion, kind, namespace, name);
    return this.request(
      "PATCH",
      `${p}${subresource ? `/${subresource}` : ""}`,
      patch,
      "application/merge-patch+json",
    );
  }
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes; then throws `describe()`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number; describe?: () => Promise<string> },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const detail = opts.describe ? await opts.describe().catch(() => "") : "";
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(
        `timed out after ${Math.round(opts.timeoutMs / 1000)} s waiting for ${what}${cause}${detail ? `: ${detail}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
  }
}
