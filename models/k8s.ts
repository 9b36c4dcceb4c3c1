/**
 * The plain Kubernetes object shape builders return. Values may be Pulumi inputs passed through
 * untouched (e.g. an AMP workspace URL known only after deploy); builders never inspect them.
 */
import type { Input } from "@pulumi/pulumi";

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, Input<string>>;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export const PART_OF = {
  "app.kubernetes.io/part-of": "inference-platform",
  "app.kubernetes.io/managed-by": "pulumi",
} as const;

/** Label (and AWS tag) carrying the stack's environment: checks that see one object or the stack read it. */
export const ENVIRONMENT_LABEL = "inference-platform/environment";
