/**
 * Model storage URIs: parsing by scheme, and what each scheme needs (an IAM role for s3://, a token
 * secret for gated hf:// repos, nothing for pvc:// and oci:// modelcars).
 */
export type StorageUri =
  | { scheme: "s3"; bucket: string; prefix: string }
  | { scheme: "gs"; bucket: string; prefix: string }
  | { scheme: "pvc"; claim: string; path: string }
  | { scheme: "hf"; repo: string; revision?: string }
  | { scheme: "oci"; image: string };

export const ALLOWED_SCHEMES = ["s3", "gs", "pvc", "hf", "oci"] as const;

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Parses a storage URI, or returns a message that says what is wrong and what is allowed. */
export function parseStorageUri(uri: string): StorageUri | { error: string } {
  const match = /^([a-z0-9]+):\/\/(.*)$/.exec(uri);
  if (!match)
    return {
      error: `"${uri}" is not a URI; expected <scheme>://..., scheme one of ${ALLOWED_SCHEMES.join(", ")}`,
    };
  const [, scheme, rest = ""] = match;
  switch (scheme) {
    case "s3":
    case "gs": {
      const [bucket = "", ...path] = rest.split("/");
      if (!BUCKET.test(bucket)) return { error: `"${bucket}" is not a valid bucket name in ${uri}` };
      const prefix = path.join("/").replace(/\/+$/, "");
      if (prefix === "")
        return {
          error: `${uri} names a whole bucket; point at the model's prefix (${scheme}://${bucket}/<path>) so access can be limited to it`,
        };
      return { scheme, bucket, prefix };
    }
    case "pvc": {
      const [claim = "", ...path] = rest.split("/");
      if (!DNS_LABEL.test(claim)) return { error: `"${claim}" is not a valid PVC name in ${uri}` };
      return { scheme: "pvc", claim, path: path.join("/") };
    }
    case "hf": {
      const hf = /^([A-Za-z0-9][\w.-]*\/[\w.-]+)(?::([\w./-]+))?$/.exec(rest);
      if (!hf) return { error: `${uri} is not hf://<org>/<repo>[:<revision>]` };
      return { scheme: "hf", repo: hf[1] ?? "", revision: hf[2] };
    }
    case "oci": {
      const oci = /^([a-z0-9.-]+(?::[0-9]+)?\/[a-z0-9._/-]+)(?::([\w.-]+)|@(sha256:[a-f0-9]{64}))$/.exec(
        rest,
      );
      if (!oci) return { error: `${uri} is not oci://<registry>/<image>:<tag> or @sha256:<digest>` };
      if (oci[2] === "latest")
        return { error: `${uri} uses the floating tag "latest"; pin a version tag or a digest` };
      return { scheme: "oci", image: rest };
    }
    default:
      return { error: `scheme "${scheme}" is not allowed; use one of ${ALLOWED_SCHEMES.join(", ")}` };
  }
}

export function isStorageError(parsed: StorageUri | { error: string }): parsed is { error: string } {
  return "error" in parsed;
}

/**
 * One IAM policy for every bucket a model touches. EKS Pod Identity allows one association per
 * ServiceAccount (CreatePodIdentityAssociation fails with ResourceInUseException for a second), so a
 * model reading two buckets gets one role with both buckets' statements, not a role per bucket.
 */
export function s3AccessPolicyForBuckets(
  buckets: ReadonlyArray<{ bucket: string; prefixes: readonly string[]; writePrefixes: readonly string[] }>,
): string | undefined {
  if (buckets.length === 0) return undefined;
  const statements = buckets.flatMap((b, i) =>
    (
      JSON.parse(s3AccessPolicy(b.bucket, b.prefixes, b.writePrefixes)) as {
        Statement: Array<{ Sid: string }>;
      }
    ).Statement.map((st) => ({ ...st, Sid: buckets.length > 1 ? `${st.Sid}${i}` : st.Sid })),
  );
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/**
 * IAM policy for one bucket: read the model's s3:// prefixes, write only its batch jobs' output prefixes
 * (the model's ServiceAccount assumes it).
 */
export function s3AccessPolicy(
  bucket: string,
  prefixes: readonly string[],
  writePrefixes: readonly string[] = [],
): string {
  const write =
    writePrefixes.length > 0
      ? [
          {
            // Batch job outputs only: the model's own prefixes stay read-only.
            Sid: "WriteBatchOutput",
            Effect: "Allow",
            Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
            Resource: writePrefixes.map((p) => `arn:aws:s3:::${bucket}/${p}/*`),
          },
        ]
      : [];
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      ...write,
      {
        Sid: "ReadModel",
        Effect: "Allow",
        Action: ["s3:GetObject"],
        Resource: prefixes.map((p) => `arn:aws:s3:::${bucket}/${p}/*`),
      },
      {
        // KServe's storage initializer calls HeadBucket before listing (kserve_storage.py 530, v0.20.0),
        // which S3 authorizes as s3:ListBucket and which carries no s3:prefix: with a plain StringLike the
        // download is denied. StringLikeIfExists lets a request without a prefix through and still limits
        // every prefixed listing to the model's own prefixes.
        Sid: "ListModelPrefix",
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: [`arn:aws:s3:::${bucket}`],
        Condition: {
          StringLikeIfExists: { "s3:prefix": [...prefixes, ...writePrefixes].flatMap((p) => [p, `${p}/*`]) },
        },
      },
    ],
  });
}
