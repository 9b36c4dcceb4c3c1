/**
 * The test control plane's PKI, made with openssl: one cluster CA (API server serving cert, client
 * certs for the admin and each control-plane component, serving certs for out-of-cluster webhooks),
 * a front-proxy CA for the aggregation layer, and the service-account signing key pair.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface CertPair {
  readonly cert: string;
  readonly key: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

function ca(dir: string, name: string, subject: string): CertPair {
  const pair = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
  if (fs.existsSync(pair.cert)) return pair;
  openssl(["genrsa", "-out", pair.key, "2048"], dir);
  openssl(
    [
      "req",
      "-x509",
      "-new",
      "-nodes",
      "-key",
      pair.key,
      "-sha256",
      "-days",
      "3650",
      "-subj",
      subject,
      "-out",
      pair.cert,
    ],
    dir,
  );
  return pair;
}

/** A leaf certificate signed by `issuer`: client auth (CN = user, O = groups) and/or serving (SANs). */
export function leaf(
  dir: string,
  name: string,
  issuer: CertPair,
  opts: { cn: string; groups?: string[]; dnsNames?: string[]; ips?: string[] },
): CertPair {
  const pair = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
  if (fs.existsSync(pair.cert)) return pair;
  const subject = `/CN=${opts.cn}${(opts.groups ?? []).map((g) => `/O=${g}`).join("")}`;
  const san = [...(opts.dnsNames ?? []).map((d) => `DNS:${d}`), ...(opts.ips ?? []).map((i) => `IP:${i}`)];
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(
    ext,
    [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      `extendedKeyUsage=${san.length > 0 ? "serverAuth,clientAuth" : "clientAuth"}`,
      ...(san.length > 0 ? [`subjectAltName=${san.join(",")}`] : []),
      "",
    ].join("\n"),
  );
  const csr = path.join(dir, `${name}.csr`);
  openssl(["genrsa", "-out", pair.key, "2048"], dir);
  openssl(["req", "-new", "-key", pair.key, "-subj", subject, "-out", csr], dir);
  openssl(
    [
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      issuer.cert,
      "-CAkey",
      issuer.key,
      "-CAcreateserial",
      "-days",
      "3650",
      "-sha256",
      "-extfile",
      ext,
      "-out",
      pair.cert,
    ],
    dir,
  );
  return pair;
}

export interface ClusterPki {
  readonly dir: string;
  readonly ca: CertPair;
  readonly frontProxyCa: CertPair;
  readonly apiserver: CertPair;
  readonly frontProxyClient: CertPair;
  readonly serviceAccount: { publicKey: string; privateKey: string };
  /** Client certificate per identity (admin, controller-manager, scheduler, kwok). */
  readonly clients: Record<"admin" | "controllerManager" | "scheduler" | "kwok", CertPair>;
}

/** Creates (or reuses) the PKI under `dir`. The API server's certificate covers loopback and its Service names. */
export function clusterPki(dir: string, serviceIp: string): ClusterPki {
  fs.mkdirSync(dir, { recursive: true });
  const clusterCa = ca(dir, "ca", "/CN=inference-platform-e2e-ca");
  const frontProxyCa = ca(dir, "front-proxy-ca", "/CN=inference-platform-e2e-front-proxy-ca");
  const saKey = path.join(dir, "sa.key");
  const saPub = path.join(dir, "sa.pub");
  if (!fs.existsSync(saPub)) {
    openssl(["genrsa", "-out", saKey, "2048"], dir);
    openssl(["rsa", "-in", saKey, "-pubout", "-out", saPub], dir);
  }
  return {
    dir,
    ca: clusterCa,
    frontProxyCa,
    apiserver: leaf(dir, "apiserver", clusterCa, {
      cn: "kube-apiserver",
      dnsNames: [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
      ],
      ips: ["127.0.0.1", serviceIp],
    }),
    frontProxyClient: leaf(dir, "front-proxy-client", frontProxyCa, { cn: "front-proxy-client" }),
    serviceAccount: { publicKey: saPub, privateKey: saKey },
    clients: {
      admin: leaf(dir, "admin", clusterCa, { cn: "e2e-admin", groups: ["system:masters"] }),
      controllerManager: leaf(dir, "controller-manager", clusterCa, { cn: "system:kube-controller-manager" }),
      scheduler: leaf(dir, "scheduler", clusterCa, { cn: "system:kube-scheduler" }),
      kwok: leaf(dir, "kwok", clusterCa, { cn: "e2e-kwok", groups: ["system:masters"] }),
    },
  };
}

/** A kubeconfig with embedded certificates, for one identity. */
export function kubeconfig(
  server: string,
  caCert: string,
  client: CertPair,
  name = "inference-platform-e2e",
): string {
  const b64 = (file: string) => fs.readFileSync(file).toString("base64");
  return JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name, cluster: { server, "certificate-authority-data": b64(caCert) } }],
      users: [
        { name, user: { "client-certificate-data": b64(client.cert), "client-key-data": b64(client.key) } },
      ],
      contexts: [{ name, context: { cluster: name, user: name } }],
      "current-context": name,
    },
    null,
    2,
  );
}
