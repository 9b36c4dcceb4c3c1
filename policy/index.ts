/**
 * The inference-platform CrossGuard policy pack: `pulumi preview --policy-pack policy
 * --policy-pack-config policy/config/<stack>.json`. The policies live in ./policies so the tests and
 * the offline plan run the same code without the CLI; this file only constructs the pack.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, POLICIES } from "./policies";

new PolicyPack(PACK_NAME, { enforcementLevel: "mandatory", policies: POLICIES });
