/**
 * Alerts reach the configured receiver, as far as a control plane can show it: the real
 * prometheus-operator loads the Alertmanager config the chart rendered from the platform's values,
 * validates it with Alertmanager's own config package (it refuses an unknown field or a receiver
 * without its credential), and writes the config Alertmanager will run into
 * `alertmanager-<name>-generated` (gzipped, key alertmanager.yaml.gz). That generated config must route
 * to the platform's receiver and read the credential from the mounted Secret.
 */
import { gunzipSync } from "node:zlib";
import { parse } from "yaml";
import type { Plan } from "../tools/planRunner";
import { waitFor, type Kube } from "./kube";
import { MONITORING_NAMESPACE, PROMETHEUS_FULLNAME, PROMETHEUS_RELEASE } from "../models/addons/monitoring";
import { ALERT_RECEIVER_FILE, PLATFORM_RECEIVER } from "../models/observability/alertReceiver";

type AlertmanagerConfig = {
  route?: { receiver?: string };
  receivers?: Array<{ name: string } & Record<string, unknown>>;
};

export async function assertAlertDelivery(
  kube: Kube,
  plan: Plan,
): Promise<{ errors: string[]; checked: number }> {
  const release = plan.resources.find(
    (r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.name === PROMETHEUS_RELEASE,
  );
  const values = release?.inputs.values as { alertmanager?: { config?: AlertmanagerConfig } } | undefined;
  if (!values?.alertmanager?.config?.receivers) return { errors: [], checked: 0 };
  const name = `${PROMETHEUS_FULLNAME}-alertmanager`;
  const secret = `alertmanager-${name}-generated`;
  let generated: AlertmanagerConfig;
  try {
    generated = await waitFor(
      `Secret ${MONITORING_NAMESPACE}/${secret} (prometheus-operator's generated Alertmanager config)`,
      async () => {
        const s = await kube.get("v1", "Secret", secret, MONITORING_NAMESPACE);
        const gz = (s?.data as Record<string, string> | undefined)?.["alertmanager.yaml.gz"];
        return gz
          ? (parse(gunzipSync(Buffer.from(gz, "base64")).toString("utf8")) as AlertmanagerConfig)
          : undefined;
      },
      {
        timeoutMs: 120_000,
        intervalMs: 2000,
        describe: async () => {
          const am = await kube.get("monitoring.coreos.com/v1", "Alertmanager", name, MONITORING_NAMESPACE);
          const conditions =
            (
              am?.status as
                { conditions?: Array<{ type: string; status: string; message?: string }> } | undefined
            )?.conditions ?? [];
          return (
            conditions.map((c) => `${c.type}=${c.status}${c.message ? ` (${c.message})` : ""}`).join("; ") ||
            "no status"
          );
        },
      },
    );
  } catch (err) {
    return { errors: [(err as Error).message], checked: 1 };
  }
  const errors: string[] = [];
  if (generated.route?.receiver !== PLATFORM_RECEIVER)
    errors.push(
      `Alertmanager ${name}: routes to ${generated.route?.receiver ?? "nothing"}, not ${PLATFORM_RECEIVER}`,
    );
  const receiver = generated.receivers?.find((r) => r.name === PLATFORM_RECEIVER);
  if (!receiver)
    errors.push(`Alertmanager ${name}: no receiver ${PLATFORM_RECEIVER} in the generated config`);
  else if (!JSON.stringify(receiver).includes(ALERT_RECEIVER_FILE))
    errors.push(`Alertmanager ${name}: receiver ${PLATFORM_RECEIVER} does not read ${ALERT_RECEIVER_FILE}`);
  return { errors, checked: 1 };
}
