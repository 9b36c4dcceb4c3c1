/**
 * Where the upstream CRDs and chart defaults live: ../shared by default, overridable with
 * INFERENCE_PLATFORM_SHARED. CRDs missing there are looked up in the cache `npm run crds` fills.
 */
import * as path from "node:path";

export function sharedDir(): string {
  return process.env.INFERENCE_PLATFORM_SHARED ?? path.resolve(__dirname, "..", "..", "shared");
}
