/**
 * The shape of a time-to-ready prediction (computed in ./timeToReady.ts); a leaf, so the planned model
 * can carry one without importing the predictor.
 */

export type Step = "node" | "image" | "download" | "load" | "engine";

export interface StepEstimate {
  readonly step: Step;
  /** Seconds, fast and slow; undefined when nothing published covers this step for the model. */
  readonly low?: number;
  readonly high?: number;
  readonly basis: string;
}

export interface Range {
  readonly low: number;
  readonly high: number;
  /** Some step had no figure: the range is a lower bound. */
  readonly partial: boolean;
}

export interface ModelTimeToReady {
  readonly model: string;
  readonly steps: StepEstimate[];
  /** A replica on a node that has the image: download + load + engine. */
  readonly warm: Range;
  /** A replica that needs a new node: every step. */
  readonly cold: Range;
  /** What the startup probe must wait for: load + engine. */
  readonly probe: Range;
  readonly checkpointGiB?: number;
}
