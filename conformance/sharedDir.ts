/**
 * Where the upstream CRDs and chart defaults live: ../shared by default, overridable with
 * INFERENCE_PLATFORM_SHARED (e.g. the cache `npm run crds` fills for users outside this repository).
 */
import * as path from "node:path";

export function sharedDir(): string {
  return process.env.INFERENCE_PLATFORM_SHARED ?? path.resolve(__dirname, "..", "..", "shared");
}
