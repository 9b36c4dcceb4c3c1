import * as assert from "node:assert/strict";
import * as path from "node:path";
import { readDeployEnvironment, releaseChart } from "../config/deployEnvironment";
import { sharedDir } from "../conformance/sharedDir";
import { CHARTS } from "../models/versions";

describe("deploy environment switches (engine e2e: local charts, provider plugin version)", () => {
  const charts = Object.values(CHARTS);

  it("installs from the pinned repositories unless a local chart directory is set", () => {
    assert.deepEqual(releaseChart(CHARTS.keda, {}), {
      chart: "keda",
      repositoryOpts: { repo: "https://kedacore.github.io/charts" },
    });
    assert.deepEqual(releaseChart(CHARTS.kserveCrd, {}), { chart: "oci://ghcr.io/kserve/charts/kserve-crd" });
    const dir = path.join(sharedDir(), "helm-charts");
    assert.deepEqual(releaseChart(CHARTS.keda, { localChartsDir: dir }), {
      chart: path.join(dir, "keda", "2.20.2"),
    });
  });

  it("reads and checks the switches, naming what is wrong", () => {
    const ok = readDeployEnvironment(
      {
        INFERENCE_PLATFORM_LOCAL_CHARTS: path.join(sharedDir(), "helm-charts"),
        INFERENCE_PLATFORM_KUBERNETES_PROVIDER_VERSION: "4.25.0",
      },
      charts,
    );
    assert.deepEqual(ok.problems, []);
    assert.equal(ok.value.kubernetesProviderVersion, "4.25.0");
    assert.deepEqual(readDeployEnvironment({}, charts), { value: {}, problems: [] });
    const bad = readDeployEnvironment(
      {
        INFERENCE_PLATFORM_LOCAL_CHARTS: "/nonexistent",
        INFERENCE_PLATFORM_KUBERNETES_PROVIDER_VERSION: "latest",
      },
      charts,
    );
    assert.deepEqual(
      bad.problems.map((p) => p.path),
      ["INFERENCE_PLATFORM_LOCAL_CHARTS", "INFERENCE_PLATFORM_KUBERNETES_PROVIDER_VERSION"],
    );
    assert.match(bad.problems[0]!.message, /lacks cert-manager\/v1.19.6\/Chart.yaml/);
  });
});
