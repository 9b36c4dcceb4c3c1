/**
 * What a node of an instance type offers pods: allocatable CPU, memory and GPUs after the kubelet's
 * reservations, as the EKS AL2023 AMI configures them. Used to refuse model pods no node can hold and to
 * register nodes that look like the stack's node groups on the e2e control plane.
 *
 * Reservations follow awslabs/amazon-eks-ami nodeadm (internal/kubelet/config.go): kube-reserved CPU is
 * 6% of the first core, 1% of the second, 0.5% of the third and fourth and 0.25% of every further core;
 * kube-reserved memory is 11 MiB per pod + 255 MiB; eviction-hard memory.available is 100 Mi.
 * maxPods is the kubelet default of 110 (the VPC CNI's ENI-based limit is lower on small instances,
 * e.g. 58 on m6i.xlarge, which matters only for very dense nodes).
 */
import { lookupGpuInstance } from "../capacity/gpuInstances";

export interface NodeShape {
  readonly instanceType: string;
  readonly vcpu: number;
  readonly memoryGiB: number;
  readonly gpus: number;
  /** Allocatable to pods. */
  readonly allocatable: {
    readonly cpuMillis: number;
    readonly memoryMiB: number;
    readonly gpus: number;
    readonly pods: number;
  };
}

export const MAX_PODS = 110;

/** vCPUs per size of the general families (AWS instance-type pages: xlarge = 4 vCPU, doubling per size). */
const SIZE_VCPU: Record<string, number> = {
  large: 2,
  xlarge: 4,
  "2xlarge": 8,
  "4xlarge": 16,
  "8xlarge": 32,
  "12xlarge": 48,
  "16xlarge": 64,
  "24xlarge": 96,
  "32xlarge": 128,
  "48xlarge": 192,
};
/** GiB of memory per vCPU: compute-optimised c 2, general-purpose m 4, memory-optimised r 8. */
const MEMORY_PER_VCPU: Record<string, number> = { c: 2, m: 4, r: 8 };

function reservedCpuMillis(vcpu: number): number {
  const tiers: Array<[number, number]> = [
    [1, 0.06],
    [1, 0.01],
    [2, 0.005],
    [Infinity, 0.0025],
  ];
  let left = vcpu;
  let millis = 0;
  for (const [cores, share] of tiers) {
    const n = Math.min(left, cores);
    millis += n * 1000 * share;
    left -= n;
    if (left <= 0) break;
  }
  return Math.ceil(millis);
}

/** The node shape of an instance type, or undefined when the platform does not know the type. */
export function nodeShape(instanceType: string): NodeShape | undefined {
  const gpu = lookupGpuInstance(instanceType);
  let vcpu: number;
  let memoryGiB: number;
  if (gpu) {
    vcpu = gpu.vcpu;
    memoryGiB = gpu.memoryGiB;
  } else {
    const m = /^([cmr])[0-9][a-z]*\.([0-9]*x?large)$/.exec(instanceType);
    const perVcpu = m ? MEMORY_PER_VCPU[m[1]!] : undefined;
    const size = m ? SIZE_VCPU[m[2]!] : undefined;
    if (!perVcpu || !size) return undefined;
    vcpu = size;
    memoryGiB = size * perVcpu;
  }
  const gpus = gpu?.gpus ?? 0;
  return {
    instanceType,
    vcpu,
    memoryGiB,
    gpus,
    allocatable: {
      cpuMillis: vcpu * 1000 - reservedCpuMillis(vcpu),
      memoryMiB: Math.floor(memoryGiB * 1024 - (11 * MAX_PODS + 255) - 100),
      gpus,
      pods: MAX_PODS,
    },
  };
}
