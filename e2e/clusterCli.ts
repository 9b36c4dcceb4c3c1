/**
 * `npm run cluster -- up|down|status [--stack <name>]`: the test control plane on its own, e.g. to
 * look around after `npm run e2e -- --keep`, or to point kubectl at (KUBECONFIG from `status`).
 */
import { runCli, stackOption, type CliSpec } from "../tools/cli";
import { clusterDown, clusterStatus, clusterUp } from "./cluster";
import { fakeNodes } from "./nodes";
import { stackConfig } from "./stack";

const SPEC: CliSpec = {
  name: "npm run cluster --",
  summary:
    "Start, stop or inspect the e2e's Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok).",
  usage: ["up --stack <name>", "down --stack <name>", "status --stack <name>"],
  commands: {
    up: "start it, with fake nodes shaped like the stack's node groups",
    down: "stop every process it started",
    status: "list its processes and its kubeconfig",
  },
  options: {
    stack: { type: "string", description: "the stack whose cluster (e2e-<stack>) to act on", value: "name" },
  },
};

runCli(SPEC, async (args) => {
  const stack = stackOption(args.values.stack, { required: true });
  const name = `e2e-${stack}`;
  switch (args.command) {
    case "up": {
      const state = await clusterUp(name, fakeNodes(stackConfig(stack)), (l) => console.log(`  ${l}`));
      console.log(`cluster ${name} is up: export KUBECONFIG=${state.kubeconfig}`);
      return 0;
    }
    case "down": {
      const stopped = await clusterDown(name);
      console.log(stopped.length ? `stopped ${stopped.join(", ")}` : `cluster ${name} is not running`);
      return 0;
    }
    default: {
      const s = clusterStatus(name);
      if (s.running.length === 0) {
        console.log(`cluster ${name} has never been started`);
        return 1;
      }
      for (const p of s.running)
        console.log(`${p.alive ? "running" : "stopped"}  ${p.name} (pid ${p.pid})  ${p.log}`);
      console.log(`KUBECONFIG=${s.kubeconfig}`);
      return s.running.every((p) => p.alive) ? 0 : 1;
    }
  }
});
