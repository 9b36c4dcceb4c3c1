/**
 * Where Alertmanager delivers alerts. kube-prometheus-stack routes everything to a `null` receiver by
 * default (88.5.3 values.yaml 580-590), so without this no alert reaches anyone. The credential (Slack
 * webhook URL, PagerDuty routing key, webhook URL) stays in a Secret mounted into Alertmanager — Helm
 * values and the release history hold only the path of the file the receiver reads.
 */
import type { Input } from "@pulumi/pulumi";
import type { K8sObject } from "../k8s";
import { coreObject, PART_OF } from "../k8s";

export type AlertReceiverKind = "slack" | "pagerduty" | "webhook";

export interface AlertsConfig {
  readonly receiver: AlertReceiverKind;
  /** Name under inference-platform:secrets holding the credential. */
  readonly secret: string;
  /** Slack only: the channel (else the webhook's own). */
  readonly channel?: string;
}

export const ALERT_RECEIVER_SECRET = "alert-receiver";
export const ALERT_RECEIVER_KEY = "credential";
/**
 * prometheus-operator mounts each of alertmanagerSpec.secrets at /etc/alertmanager/secrets/<name>
 * (Alertmanager CRD, spec.secrets; kube-prometheus-stack 88.5.3 crds/crd-alertmanagers.yaml 6413).
 */
export const ALERT_RECEIVER_FILE = `/etc/alertmanager/secrets/${ALERT_RECEIVER_SECRET}/${ALERT_RECEIVER_KEY}`;
export const PLATFORM_RECEIVER = "platform";

/**
 * The receiver's config, reading its credential from the file (field names of Alertmanager v0.33.1
 * config/notifiers.go 285 and 438, notify/webhook/config.go 40, as prometheus-operator v0.93.1 validates).
 */
function receiver(alerts: AlertsConfig): Record<string, unknown> {
  switch (alerts.receiver) {
    case "slack":
      return {
        slack_configs: [
          {
            api_url_file: ALERT_RECEIVER_FILE,
            ...(alerts.channel ? { channel: alerts.channel } : {}),
            send_resolved: true,
          },
        ],
      };
    case "pagerduty":
      return { pagerduty_configs: [{ routing_key_file: ALERT_RECEIVER_FILE, send_resolved: true }] };
    case "webhook":
      return { webhook_configs: [{ url_file: ALERT_RECEIVER_FILE, send_resolved: true }] };
  }
}

/**
 * kube-prometheus-stack's `alertmanager.config` (merged onto the chart's: global and inhibit rules stay)
 * and the Alertmanager spec's mounted Secret. Lists replace the chart's whole, so `null` (which keeps
 * the always-firing Watchdog quiet) is listed again.
 */
export function alertmanagerValues(alerts: AlertsConfig): {
  config: Record<string, unknown>;
  secrets: string[];
} {
  return {
    config: {
      route: {
        receiver: PLATFORM_RECEIVER,
        group_by: ["namespace", "alertname"],
        routes: [{ receiver: "null", matchers: ['alertname = "Watchdog"'] }],
      },
      receivers: [{ name: "null" }, { name: PLATFORM_RECEIVER, ...receiver(alerts) }],
    },
    secrets: [ALERT_RECEIVER_SECRET],
  };
}

export function alertReceiverSecret(namespace: string, credential: Input<string>): K8sObject {
  return coreObject("v1/Secret", {
    metadata: { name: ALERT_RECEIVER_SECRET, namespace, labels: { ...PART_OF } },
    type: "Opaque",
    stringData: { [ALERT_RECEIVER_KEY]: credential },
  });
}
