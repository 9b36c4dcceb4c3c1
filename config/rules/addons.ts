/**
 * Add-on rules: what cannot be turned off while something depends on it, and where alerts go.
 */
import { ADDON_NAMES } from "../../models/addons/types";
import { suggestion } from "../suggest";
import type { PlatformInput } from "../schema";
import type { Problem } from "../problems";

/** Add-on toggles against what the platform needs. */
export function addonProblems(cfg: PlatformInput): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const addons = cfg.addons;
  if (addons.istio.publicIngress && !addons.istio.jwt)
    add(
      "addons.istio.jwt",
      "a public ingress needs request authentication: set addons.istio.jwt (issuer, jwksUri)",
    );
  if (addons.istio.publicIngress && cfg.cluster.mode === "eks" && !addons.istio.tlsCertificateArn)
    add(
      "addons.istio.tlsCertificateArn",
      "a public gateway carries bearer tokens: terminate TLS at its NLB with an ACM certificate for the model hosts (*.<addons.kserve.domain>)",
    );
  if (!addons.certManager.enabled)
    add(
      "addons.certManager.enabled",
      "KServe's webhooks need cert-manager certificates; cert-manager cannot be disabled",
    );
  if (cfg.models.length > 0 && !addons.istio.enabled)
    add(
      "addons.istio.enabled",
      "model traffic (ingress, canary and A/B routing, mTLS) goes through Istio; it cannot be disabled while models are declared",
    );

  return problems;
}

/** User values only for releases the platform installs. */
export function addonValuesProblems(cfg: PlatformInput): Problem[] {
  const known: readonly string[] = ADDON_NAMES;
  return Object.keys(cfg.addons.values)
    .filter((name) => !known.includes(name))
    .map((name) => ({
      path: `addons.values.${name}`,
      message: `not an add-on release of the platform (${known.join(", ")})${suggestion(name, known)}`,
    }));
}

/** Alert delivery: prod alerts must reach someone, through a secret the stack has. */
export function alertProblems(cfg: PlatformInput): Problem[] {
  const m = cfg.addons.monitoring;
  const at = "addons.monitoring.alerts";
  if (!m.enabled) return [];
  if (!m.alerts)
    return cfg.environment === "prod"
      ? [
          {
            path: at,
            message:
              "prod alerts must reach someone: set receiver (slack, pagerduty or webhook) and secret (the stack secret holding its URL or routing key); without it they go to kube-prometheus-stack's null receiver",
          },
        ]
      : [];
  const problems: Problem[] = [];
  if (!cfg.secretNames.includes(m.alerts.secret))
    problems.push({
      path: `${at}.secret`,
      message: `no secret "${m.alerts.secret}" under inference-platform:secrets (have: ${cfg.secretNames.join(", ") || "none"}); set it with pulumi config set --secret --path 'secrets.${m.alerts.secret}'`,
    });
  if (m.alerts.channel !== undefined && m.alerts.receiver !== "slack")
    problems.push({
      path: `${at}.channel`,
      message: `channel is a Slack setting; receiver is ${m.alerts.receiver}`,
    });
  return problems;
}
