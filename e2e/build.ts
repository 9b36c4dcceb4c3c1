/**
 * Builds the upstream binaries the e2e runs, from their Go modules at the pinned versions (the tools
 * modules under e2e/tools/<name>/: a go.mod with `tool` directives and a go.sum, nothing else). Each
 * build lands in <cache>/bin/<name>-<key>/, keyed by go.mod, go.sum, the Go version and the flags,
 * so it happens once per machine and version. Nothing is downloaded except through the Go module proxy.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { binRoot, REPO } from "./paths";

export interface ToolModule {
  /** Folder under e2e/tools. */
  readonly name: string;
  /** Linker flags, given the version of the module that owns the binaries (from go.mod). */
  readonly ldflags?: (version: string) => string[];
  /**
   * Build in a writable copy of the module that owns the binaries instead of from the tools module,
   * running the module's own `go generate` first: for a main package that embeds files its upstream
   * build generates (and that the module zip therefore lacks). `prepare` adjusts the copy's go.mod.
   */
  readonly generateInCopy?: {
    readonly env: (version: string) => Record<string, string>;
    readonly prepare: (copy: string, toolsDir: string) => void;
  };
}

const componentBaseVersion = (v: string) => {
  const [major, minor] = v.replace(/^v/, "").split(".");
  const pkg = "k8s.io/component-base/version";
  // Without these the API server reports v0.0.0, and controllers that check the server version refuse it.
  return [
    `-X ${pkg}.gitVersion=${v}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
    `-X ${pkg}.buildDate=1970-01-01T00:00:00Z`,
    `-X k8s.io/client-go/pkg/version.gitVersion=${v}`,
  ];
};

/** Every tools module the e2e may need, by name. */
export const TOOL_MODULES: Record<string, ToolModule> = {
  kubernetes: { name: "kubernetes", ldflags: componentBaseVersion },
  etcd: { name: "etcd" },
  helm: {
    name: "helm",
    // As upstream's Makefile stamps them: the version, and the Kubernetes version `helm template` assumes.
    ldflags: (v) => [
      `-X helm.sh/helm/v3/internal/version.version=${v}`,
      "-X helm.sh/helm/v3/internal/version.metadata=",
      "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1",
      "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=34",
    ],
  },
  kwok: { name: "kwok", ldflags: (v) => [`-X sigs.k8s.io/kwok/pkg/consts.Version=${v}`] },
  kserve: { name: "kserve" },
  // A development build of istiod (e2e/tools/istiod/go.mod says why): stamped as what it is.
  istiod: {
    name: "istiod",
    ldflags: (v) => [
      "-X istio.io/istio/pkg/version.buildVersion=1.31-dev",
      `-X istio.io/istio/pkg/version.buildGitRevision=${v.split("-").pop()}`,
    ],
  },
  keda: {
    name: "keda",
    ldflags: (v) => [`-X github.com/kedacore/keda/v2/version.Version=${v.replace(/^v/, "")}`],
  },
  prometheus: {
    name: "prometheus",
    ldflags: (v) => [
      `-X github.com/prometheus/common/version.Version=${v.replace(/^v0\.(\d)(\d\d)\./, "3.$2.")}`,
    ],
  },
  pulumi: {
    name: "pulumi",
    ldflags: (v) => [`-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${v}`],
  },
  "pulumi/language-nodejs": {
    name: "pulumi/language-nodejs",
    ldflags: (v) => [`-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${v}`],
  },
  // The provider embeds schema-embed.json and terraform-mapping-embed.json, which its Makefile generates
  // (gitignored upstream, so absent from the module zip): upstream's own generator runs in a copy.
  "pulumi-kubernetes": {
    name: "pulumi-kubernetes",
    ldflags: () => [
      `-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${PULUMI_KUBERNETES_VERSION}`,
    ],
    generateInCopy: {
      env: () => ({ VERSION: PULUMI_KUBERNETES_VERSION }),
      prepare: (copy, toolsDir) => {
        // Upstream replaces its SDK with ../sdk (outside the module zip): use the published SDK of the release.
        const sdk = "github.com/pulumi/pulumi-kubernetes/sdk/v4";
        run(
          "go",
          ["mod", "edit", `-dropreplace=${sdk}`, `-require=${sdk}@v${PULUMI_KUBERNETES_VERSION}`],
          copy,
        );
        const sums = fs
          .readFileSync(path.join(toolsDir, "go.sum"), "utf8")
          .split("\n")
          .filter((l) => l.startsWith(`${sdk} `));
        fs.appendFileSync(path.join(copy, "go.sum"), `${sums.join("\n")}\n`);
      },
    },
  },
  lws: { name: "lws", ldflags: (v) => [`-X sigs.k8s.io/lws/pkg/version.GitVersion=${v}`] },
  "knative-serving": { name: "knative-serving" },
  "knative-operator": { name: "knative-operator" },
  "prometheus-operator": {
    name: "prometheus-operator",
    ldflags: (v) => [`-X github.com/prometheus/common/version.Version=${v.replace(/^v/, "")}`],
  },
};

/**
 * The Kubernetes provider release the Go module proxy serves: only the commit tagged v4.25.0
 * (pseudo-version v4.0.0-20260115033456-f47bc2d6f199); @pulumi/kubernetes on npm is 4.34.2, whose
 * provider module is refused. The engine e2e pins this version on the provider resource.
 */
export const PULUMI_KUBERNETES_VERSION = "4.25.0";

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): void {
  const r = spawnSync(cmd, args, {
    cwd,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) failed (exit ${r.status})`);
}

interface GoMod {
  readonly tools: string[];
  readonly requires: Map<string, string>;
}

export function parseGoMod(text: string): GoMod {
  const tools: string[] = [];
  const requires = new Map<string, string>();
  let block: string | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\/\/.*$/, "").trim();
    if (!line) continue;
    const open = /^(tool|require|replace|exclude)\s*\($/.exec(line);
    if (open) {
      block = open[1];
      continue;
    }
    if (line === ")") {
      block = undefined;
      continue;
    }
    const single = /^(tool|require)\s+(.+)$/.exec(line);
    const [kind, rest] = single ? [single[1], single[2]!] : [block, line];
    if (kind === "tool") tools.push(rest.trim());
    if (kind === "require") {
      const [mod, ver] = rest.trim().split(/\s+/);
      if (mod && ver) requires.set(mod, ver);
    }
  }
  return { tools, requires };
}

function goVersion(): string {
  return execFileSync("go", ["env", "GOVERSION"], { encoding: "utf8" }).trim();
}

/** The module (from go.mod's requires) that a package path belongs to: the longest matching prefix. */
function owningModule(pkg: string, requires: Map<string, string>): [string, string] | undefined {
  let best: [string, string] | undefined;
  for (const [mod, ver] of requires)
    if ((pkg === mod || pkg.startsWith(`${mod}/`)) && (!best || mod.length > best[0].length))
      best = [mod, ver];
  return best;
}

/** The file `go build` writes for a main package: its last path element, skipping a /vN major-version suffix. */
export function binaryName(pkg: string): string {
  const parts = pkg.split("/");
  const last = parts.pop()!;
  return /^v[0-9]+$/.test(last) && parts.length > 0 ? parts.pop()! : last;
}

export interface Built {
  readonly dir: string;
  /** Binary path by name (see binaryName). */
  readonly bin: Record<string, string>;
  /** Seconds the build took; 0 when it came from the cache. */
  readonly seconds: number;
}

/** Builds (or finds in the cache) every binary of one tools module. */
export function buildTool(name: string, log: (line: string) => void = () => undefined): Built {
  const tool = TOOL_MODULES[name];
  if (!tool) throw new Error(`unknown tools module ${name} (known: ${Object.keys(TOOL_MODULES).join(", ")})`);
  const dir = path.join(REPO, "e2e", "tools", name);
  const modText = fs.readFileSync(path.join(dir, "go.mod"), "utf8");
  const sumText = fs.readFileSync(path.join(dir, "go.sum"), "utf8");
  const mod = parseGoMod(modText);
  if (mod.tools.length === 0) throw new Error(`${dir}/go.mod declares no tool`);
  const owner = owningModule(mod.tools[0]!, mod.requires);
  const ldflags = ["-s", "-w", ...(tool.ldflags && owner ? tool.ldflags(owner[1]) : [])];
  const key = createHash("sha256")
    .update(modText)
    .update(sumText)
    .update(goVersion())
    .update(ldflags.join(" "))
    .digest("hex")
    .slice(0, 12);
  const out = path.join(binRoot(), `${name.replace(/\//g, "-")}-${owner?.[1] ?? "dev"}-${key}`);
  const bin = Object.fromEntries(mod.tools.map((t) => [binaryName(t), path.join(out, binaryName(t))]));
  if (Object.values(bin).every((b) => fs.existsSync(b))) return { dir: out, bin, seconds: 0 };
  log(`building ${mod.tools.join(", ")} (${owner?.join("@") ?? name}) into ${out}`);
  const started = Date.now();
  const tmp = `${out}.partial`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const env = { GOFLAGS: "-mod=mod -buildvcs=false" };
  if (tool.generateInCopy && owner) {
    const source = moduleSourceDir(name, owner[0]);
    const copy = `${out}.src`;
    fs.rmSync(copy, { recursive: true, force: true });
    fs.cpSync(source, copy, { recursive: true });
    execFileSync("chmod", ["-R", "u+w", copy]);
    tool.generateInCopy.prepare(copy, dir);
    const pkgs = mod.tools.map((t) => `./${path.relative(owner[0], t)}`);
    run("go", ["generate", ...pkgs], copy, { ...env, ...tool.generateInCopy.env(owner[1]) });
    run("go", ["build", `-ldflags=${ldflags.join(" ")}`, "-o", `${tmp}/`, ...pkgs], copy, env);
    fs.rmSync(copy, { recursive: true, force: true });
  } else {
    const result = spawnSync(
      "go",
      ["build", `-ldflags=${ldflags.join(" ")}`, "-o", `${tmp}/`, ...mod.tools],
      {
        cwd: dir,
        stdio: ["ignore", "inherit", "inherit"],
        env: { ...process.env, GOFLAGS: "-mod=readonly -buildvcs=false" },
      },
    );
    if (result.status !== 0) throw new Error(`go build in e2e/tools/${name} failed (exit ${result.status})`);
  }
  fs.rmSync(out, { recursive: true, force: true });
  fs.renameSync(tmp, out);
  return { dir: out, bin, seconds: (Date.now() - started) / 1000 };
}

/**
 * The source folder of a module a tools module requires (from the Go module cache, downloading it
 * through the proxy if needed): upstream data files (kwok's Stage definitions, CRDs) are read from
 * there, never copied into the repository.
 */
export function moduleSourceDir(toolModule: string, module: string): string {
  const dir = path.join(REPO, "e2e", "tools", toolModule);
  const out = execFileSync("go", ["mod", "download", "-json", module], { cwd: dir, encoding: "utf8" });
  const info = JSON.parse(out) as { Dir?: string; Error?: string };
  if (!info.Dir)
    throw new Error(
      `go mod download ${module} (in e2e/tools/${toolModule}): ${info.Error ?? "no source folder"}`,
    );
  return info.Dir;
}
