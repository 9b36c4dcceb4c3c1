/**
 * The stack's environment as the policies see it: the label and tag the program puts on what it creates
 * (ENVIRONMENT_LABEL). Policies that only make sense in one environment check it, so a new stack without a
 * policy/config/<stack>.json gets the behaviour its environment calls for instead of every policy mandatory.
 */
import type { PolicyResource } from "@pulumi/policy";
import { ENVIRONMENT_LABEL } from "../../models/k8s";

type Props = Record<string, unknown>;

/** The environment one resource carries (an AWS tag or a Kubernetes label), if any. */
export function environmentOf(props: Props): string | undefined {
  const tags = props.tags as Record<string, string> | undefined;
  const labels = (props.metadata as { labels?: Record<string, string> } | undefined)?.labels;
  return tags?.[ENVIRONMENT_LABEL] ?? labels?.[ENVIRONMENT_LABEL];
}

/** The stack's environment: the first resource that carries one. */
export function stackEnvironment(resources: readonly PolicyResource[]): string | undefined {
  for (const r of resources) {
    const env = environmentOf(r.props);
    if (env) return env;
  }
  return undefined;
}
