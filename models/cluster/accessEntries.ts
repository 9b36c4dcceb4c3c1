/**
 * Keys of the cluster-admin access entries @pulumi/eks creates (one child resource per key, named
 * `<cluster>-<key>`, pulumi-eks nodejs/eks/cluster.ts createAccessEntries).
 *
 * The key is the principal's position in the sorted list, not in the list as written: reordering
 * `cluster.adminRoleArns` changes nothing. It is not derived from the ARN itself because renaming a
 * key that already exists makes the engine create the new entry before deleting the old one, and EKS
 * refuses a second access entry for the same principal (ResourceInUseException) — every stack deployed
 * with `admin-<n>` keys would fail its next update. Inserting a principal that sorts first still shifts
 * the others' keys (the README says so).
 */
export function adminAccessKeys(arns: readonly string[]): Array<{ key: string; arn: string }> {
  return [...new Set(arns)].sort().map((arn, i) => ({ key: `admin-${i}`, arn }));
}
