/** Every policy of the pack, importable without constructing the PolicyPack (tests, offline plan). */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { AVAILABILITY_POLICIES } from "./availability";
import { CLUSTER_POLICIES } from "./cluster";
import { KARPENTER_POLICIES } from "./karpenter";
import { COST_RESOURCE_POLICIES, COST_STACK_POLICIES } from "./cost";
import { SECURITY_RESOURCE_POLICIES, SECURITY_STACK_POLICIES } from "./security";
import { SERVING_POLICIES } from "./serving";
import { STACK_POLICIES } from "./stack";
import { multiNodeOnEfaInProd } from "./multiNode";
import { llmdNeedsItsAddons } from "./llmd";

export const PACK_NAME = "inference-platform";

export const POLICIES: Array<ResourceValidationPolicy | StackValidationPolicy> = [
  ...SERVING_POLICIES,
  ...CLUSTER_POLICIES,
  ...KARPENTER_POLICIES,
  ...SECURITY_RESOURCE_POLICIES,
  ...SECURITY_STACK_POLICIES,
  ...COST_RESOURCE_POLICIES,
  ...COST_STACK_POLICIES,
  ...STACK_POLICIES,
  multiNodeOnEfaInProd,
  llmdNeedsItsAddons,
  ...AVAILABILITY_POLICIES,
];
