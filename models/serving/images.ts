/**
 * Container image references: parsing and the pinning rule (no floating tags on serving images).
 */
import type { Environment } from "../../config/schema";

export interface ImageRef {
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

export function parseImage(image: string): ImageRef {
  const at = image.indexOf("@");
  if (at >= 0) return { repository: image.slice(0, at), digest: image.slice(at + 1) };
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  if (colon > slash) return { repository: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { repository: image };
}

export function formatImage(ref: ImageRef): string {
  if (ref.digest) return `${ref.repository}@${ref.digest}`;
  return ref.tag ? `${ref.repository}:${ref.tag}` : ref.repository;
}

const FLOATING = /^(latest|latest-gpu|main|master|nightly|stable|edge)$/;

/** A floating or missing tag is an error in prod, a warning elsewhere; a digest is always fine. */
export function imagePinProblem(
  image: string,
  env: Environment,
): { severity: "error" | "warning"; message: string } | undefined {
  const ref = parseImage(image);
  if (ref.digest) {
    return /^sha256:[a-f0-9]{64}$/.test(ref.digest)
      ? undefined
      : { severity: "error", message: `${image}: malformed digest (expected sha256:<64 hex>)` };
  }
  const severity = env === "prod" ? "error" : "warning";
  if (!ref.tag)
    return {
      severity,
      message: `${image} has no tag, so it floats with "latest"; pin a version tag or a digest`,
    };
  if (FLOATING.test(ref.tag))
    return {
      severity,
      message: `${image} uses the floating tag "${ref.tag}", which can move to a new CUDA major; pin a version tag or a digest`,
    };
  return undefined;
}
