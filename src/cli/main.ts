#!/usr/bin/env node
/** The `sts` command. Errors the user can act on are printed as one line, never as a stack trace. */
import { Command, CommanderError } from 'commander';
import { StsError } from '../errors.js';
import { DROP_POLICIES } from '../geometry/boxes.js';
import { FALLBACKS } from '../pipeline/segment-then-segment.js';
import { demoDefaults, runDemo } from './commands/demo.js';
import { runMetrics } from './commands/metrics.js';
import { oneOf, positiveInteger } from './options.js';

export function buildProgram(): Command {
  const program = new Command('sts')
    .description('Segment-then-Segment: context-preserving crop-based segmentation for large biomedical images')
    .showHelpAfterError('(run sts --help for usage)')
    .exitOverride();

  program
    .command('demo')
    .description('segment a real DSB2018 nuclei image with Segment-then-Segment and the baseline, scored against its truth')
    .option('--image <file>', 'image to segment', demoDefaults.image)
    .option('--mask <file>', 'its ground-truth mask', demoDefaults.mask)
    .option('--size <S>', 'network input size S', positiveInteger('--size'), demoDefaults.size)
    .option('--drop-policy <policy>', `boxes larger than the image: ${DROP_POLICIES.join(' | ')}`, oneOf('--drop-policy', DROP_POLICIES), 'reference')
    .option('--fallback <kind>', `output when no box survives: ${FALLBACKS.join(' | ')}`, oneOf('--fallback', FALLBACKS), 'empty')
    .option('--out <folder>', 'where to write masks and the overlay', demoDefaults.out)
    .action(async (o) => runDemo(o));

  program
    .command('metrics')
    .description("per-image DSC, IoU, precision and recall (the reference's rules) of predicted masks against truth, as CSV")
    .argument('<pred...>', 'predicted mask images')
    .requiredOption('--truth <masks...>', 'ground-truth mask images, one per prediction, same order')
    .action(async (preds: string[], o: { truth: string[] }) => runMetrics(preds, o.truth));

  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed its own message (or help) already
      return error.exitCode;
    }
    if (error instanceof StsError) {
      console.error(`sts: error: ${error.message}`);
      return 1;
    }
    const e = error as Error;
    console.error(`sts: unexpected error: ${e?.message ?? String(error)}`);
    if (process.env.STS_DEBUG) console.error(e?.stack);
    else console.error('(this is a bug in sts: please report it with the output of the same command run with STS_DEBUG=1)');
    return 1;
  }
}

process.exitCode = await main(process.argv);
