/**
 * The rollout state machine behind `npm run rollout`: what each command does to a model's config, as a
 * list of edits at key paths, or why it is refused. Pure: the command-line tool applies the edits to
 * the stack file and validates the result before writing anything.
 */
import type { Environment } from "../../config/schema";
import { PROD_MAX_STEP, type ModelInput, type RolloutSettings } from "../schema";
import { trafficSplit } from "../serving/traffic";

/** A key path inside one model entry, e.g. ["rollout", "percent"]. */
export type ModelPath = readonly string[];

export type Edit =
  | { readonly op: "set"; readonly path: ModelPath; readonly value: unknown }
  | { readonly op: "delete"; readonly path: ModelPath };

export type RolloutCommand =
  | {
      readonly kind: "start";
      readonly candidate: { readonly storageUri: string; readonly image?: string };
      readonly mode?: RolloutSettings["mode"];
    }
  | { readonly kind: "set"; readonly percent: number }
  | { readonly kind: "step" }
  | { readonly kind: "promote"; readonly force?: boolean }
  | { readonly kind: "abort" }
  | { readonly kind: "ab"; readonly header?: string; readonly cookie?: string; readonly value: string };

export type Transition = { readonly edits: Edit[]; readonly summary: string } | { readonly error: string };

type Rollout = NonNullable<ModelInput["rollout"]>;
type Command<K extends RolloutCommand["kind"]> = Extract<RolloutCommand, { kind: K }>;

function startRollout(model: ModelInput, command: Command<"start">): Transition {
  const r = model.rollout;
  if (r)
    return {
      error: `${model.name} already has a rollout (${r.mode}, candidate ${r.candidate.storageUri}); promote or abort it first`,
    };
  if (command.candidate.storageUri === model.storageUri && !command.candidate.image)
    return {
      error: `${model.name}: the candidate is the stable version (${model.storageUri}); give a new --storage-uri or --image`,
    };
  const candidate = {
    storageUri: command.candidate.storageUri,
    ...(command.candidate.image ? { image: command.candidate.image } : {}),
  };
  return {
    edits: [
      { op: "set", path: ["rollout"], value: { candidate, mode: command.mode ?? "canary", percent: 0 } },
    ],
    summary: `${model.name}: candidate ${candidate.storageUri}${candidate.image ? ` (${candidate.image})` : ""} added at 0%; smoke-test it, then step or set`,
  };
}

function stepRollout(model: ModelInput, r: Rollout, environment: Environment): Transition {
  if (r.mode !== "canary" && r.mode !== "shadow")
    return {
      error: `${model.name}: step follows the schedule of canary and shadow rollouts; this one is ${r.mode}`,
    };
  const next = r.steps.find((s) => s > r.percent);
  if (next === undefined)
    return {
      error: `${model.name}: at ${r.percent}%, the last step of ${r.steps.join(", ")}; promote or abort`,
    };
  return setPercent(model, next, environment);
}

function promoteRollout(
  model: ModelInput,
  r: Rollout,
  command: Command<"promote">,
  environment: Environment,
): Transition {
  if (r.mode === "ab" && !command.force)
    return {
      error: `${model.name}: an A/B test is routing ${r.match?.header ? `header ${r.match.header}` : `cookie ${r.match?.cookie ?? "?"}`}=${r.match?.value ?? "?"} to the candidate; promoting ends it for everyone — rerun with --force if that is intended`,
    };
  const split = trafficSplit(model);
  // Promotion gives the candidate all traffic: in prod, a jump beyond maxStep needs --force too.
  const share =
    r.mode === "blueGreen" ? split.candidate : r.mode === "ab" ? 0 : r.mode === "shadow" ? 0 : r.percent;
  const jump = command.force ? undefined : checkJump(model, share, 100, environment);
  if (jump) return { error: `${jump}; step up first, or rerun promote with --force` };
  const c = r.candidate;
  const edits: Edit[] = [{ op: "set", path: ["storageUri"], value: c.storageUri }];
  if (c.image) edits.push({ op: "set", path: ["image"], value: c.image });
  if (c.args.length > 0) edits.push({ op: "set", path: ["args"], value: c.args });
  for (const [key, value] of Object.entries(c.engine ?? {}))
    if (value !== undefined) edits.push({ op: "set", path: ["engine", key], value });
  edits.push({ op: "delete", path: ["rollout"] });
  return {
    edits,
    summary: `${model.name}: candidate promoted to stable (it had ${split.candidate}% of traffic); rollout removed`,
  };
}

function abortRollout(model: ModelInput, r: Rollout): Transition {
  if (r.mode === "blueGreen")
    return r.active === "stable"
      ? { error: `${model.name}: blue/green already serves stable` }
      : {
          edits: [{ op: "set", path: ["rollout", "active"], value: "stable" }],
          summary: `${model.name}: all traffic back to stable (candidate kept warm)`,
        };
  if (r.mode === "ab")
    return {
      edits: [
        { op: "set", path: ["rollout", "mode"], value: "canary" },
        { op: "delete", path: ["rollout", "match"] },
        { op: "set", path: ["rollout", "percent"], value: 0 },
      ],
      summary: `${model.name}: A/B routing removed; candidate gets 0%`,
    };
  if (r.percent === 0) return { error: `${model.name}: the candidate already gets 0%` };
  return {
    edits: [{ op: "set", path: ["rollout", "percent"], value: 0 }],
    summary: `${model.name}: ${r.percent}% -> 0% ${r.mode === "shadow" ? "mirrored to" : "to"} the candidate`,
  };
}

function abTest(model: ModelInput, r: Rollout, command: Command<"ab">): Transition {
  if (!command.header === !command.cookie)
    return {
      error: `${model.name}: ab needs exactly one of --header <name> or --cookie <name>, and --value`,
    };
  const match = command.header
    ? { header: command.header, value: command.value }
    : { cookie: command.cookie!, value: command.value };
  const edits: Edit[] = [];
  if (r.mode !== "ab") edits.push({ op: "set", path: ["rollout", "mode"], value: "ab" });
  edits.push({ op: "set", path: ["rollout", "match"], value: match });
  if (r.percent !== 0) edits.push({ op: "set", path: ["rollout", "percent"], value: 0 });
  return {
    edits,
    summary: `${model.name}: requests with ${command.header ? `header ${command.header}` : `cookie ${command.cookie!}`}=${command.value} go to the candidate; everyone else to stable`,
  };
}

/** The max step that applies: the model's own, else prod's default; none outside prod. */
export function effectiveMaxStep(
  rollout: Pick<RolloutSettings, "maxStep">,
  environment: Environment,
): number | undefined {
  return environment === "prod" ? (rollout.maxStep ?? PROD_MAX_STEP) : undefined;
}

function checkJump(
  model: ModelInput,
  from: number,
  to: number,
  environment: Environment,
): string | undefined {
  const maxStep = effectiveMaxStep(model.rollout!, environment);
  if (maxStep !== undefined && to - from > maxStep)
    return `${model.name}: ${from}% -> ${to}% is a jump of ${to - from} points; prod moves at most ${maxStep} per edit (rollout.maxStep)`;
  return undefined;
}

function setPercent(model: ModelInput, percent: number, environment: Environment): Transition {
  const r = model.rollout!;
  if (!Number.isInteger(percent) || percent < 0 || percent > 100)
    return { error: `${model.name}: percent must be a whole number from 0 to 100 (got ${percent})` };
  if (r.mode !== "canary" && r.mode !== "shadow")
    return {
      error: `${model.name}: a percentage applies to canary and shadow rollouts; this one is ${r.mode} (use ${r.mode === "ab" ? "ab or abort" : "promote or abort"})`,
    };
  const jump = checkJump(model, r.percent, percent, environment);
  if (jump) return { error: jump };
  if (percent === r.percent) return { error: `${model.name}: already at ${percent}%` };
  const what = r.mode === "shadow" ? "mirrored to" : "to";
  return {
    edits: [{ op: "set", path: ["rollout", "percent"], value: percent }],
    summary: `${model.name}: ${r.percent}% -> ${percent}% ${what} the candidate`,
  };
}

export function applyRolloutCommand(
  model: ModelInput,
  command: RolloutCommand,
  environment: Environment,
): Transition {
  if (command.kind === "start") return startRollout(model, command);
  const r = model.rollout;
  if (!r)
    return {
      error: `${model.name} has no rollout in progress: add rollout.candidate (storageUri, and image, args or engine that differ) first`,
    };
  switch (command.kind) {
    case "set":
      return setPercent(model, command.percent, environment);
    case "step":
      return stepRollout(model, r, environment);
    case "promote":
      return promoteRollout(model, r, command, environment);
    case "abort":
      return abortRollout(model, r);
    case "ab":
      return abTest(model, r, command);
  }
}

export interface RolloutStatus {
  readonly model: string;
  readonly mode: string;
  readonly stable: number;
  readonly candidate: number;
  readonly detail: string;
}

/** One line per model: who gets what share of traffic now. */
export function rolloutStatus(models: readonly ModelInput[]): RolloutStatus[] {
  return models.map((m) => {
    const r = m.rollout;
    if (!r) return { model: m.name, mode: "-", stable: 100, candidate: 0, detail: "no rollout" };
    const split = trafficSplit(m);
    const next = r.steps.find((s) => s > r.percent);
    const detail =
      r.mode === "ab"
        ? `${r.match?.header ? `header ${r.match.header}` : `cookie ${r.match?.cookie ?? "?"}`}=${r.match?.value ?? "?"} -> candidate`
        : r.mode === "blueGreen"
          ? `active: ${r.active}`
          : r.mode === "shadow"
            ? `mirroring ${r.percent}% to candidate; next step ${next ?? "promote"}`
            : `next step ${next === undefined ? "promote" : `${next}%`} of ${r.steps.join(", ")}`;
    return { model: m.name, mode: r.mode, stable: split.stable, candidate: split.candidate, detail };
  });
}
