/**
 * Where the e2e keeps what it builds and runs: outside the repository, so a clean clone reuses the
 * binaries a previous run built (INFERENCE_PLATFORM_E2E_CACHE, default ~/.cache/inference-platform).
 */
import * as os from "node:os";
import * as path from "node:path";

export const REPO = path.resolve(__dirname, "..");

export function e2eCacheDir(): string {
  return process.env.INFERENCE_PLATFORM_E2E_CACHE ?? path.join(os.homedir(), ".cache", "inference-platform");
}

export const binRoot = (): string => path.join(e2eCacheDir(), "bin");
export const clusterDir = (name: string): string => path.join(e2eCacheDir(), "clusters", name);
