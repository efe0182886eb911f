/**
 * Whether a rough and a fine network make a Segment-then-Segment pair: both at the same S (crops are resized to the
 * size the rough network saw), the same channels, gray or RGB, and each trained for its own stage when training
 * recorded one. Platform-free, so that `loadModelPair` in Node and the page's worker refuse the same pairs with the
 * same words, whatever format (TensorFlow.js or ONNX) each network came in.
 */

/** What the check needs of one network: where it came from (for messages), its input and its training metadata. */
export interface PairMember {
  readonly name: string;
  readonly size: number;
  readonly channels: number;
  /** What training recorded (`{ sts: { stage, ... } }` for `sts train`'s models); empty when nothing was. */
  readonly metadata: Record<string, unknown>;
}

/** What is wrong with the pair, said so that the user knows which file to change; undefined when it fits. */
export function pairProblem(rough: PairMember, fine: PairMember): string | undefined {
  if (rough.size !== fine.size) {
    return `the rough model (${rough.name}) takes ${rough.size} x ${rough.size} inputs but the fine model (${fine.name}) takes ${fine.size} x ${fine.size}; Segment-then-Segment needs both at the same size S: load a pair trained with the same --size`;
  }
  if (rough.channels !== fine.channels) {
    return `the rough model (${rough.name}) takes ${rough.channels} channels but the fine model (${fine.name}) ${fine.channels}; load a pair trained on the same kind of images`;
  }
  if (rough.channels !== 1 && rough.channels !== 3) {
    return `the models take ${rough.channels} channels; Segment-then-Segment feeds gray (1) or RGB (3) images: load models trained on such images`;
  }
  for (const [member, stage] of [[rough, 'rough'], [fine, 'fine']] as const) {
    const trainedAs = trainedStage(member.metadata);
    if (trainedAs !== undefined && trainedAs !== stage) {
      return `the ${stage} model (${member.name}) was trained as the ${trainedAs} network; swap the two models`;
    }
  }
  return undefined;
}

/** The stage `sts train` recorded for a network ('rough' or 'fine'), if any. */
export function trainedStage(metadata: Record<string, unknown>): string | undefined {
  const sts = metadata.sts;
  const stage = typeof sts === 'object' && sts !== null ? (sts as Record<string, unknown>).stage : undefined;
  return typeof stage === 'string' ? stage : undefined;
}
