/** The `sts` command's program. Errors the user can act on are printed as one line, never as a stack trace. */
import { constants as osConstants } from 'node:os';
import { Command, CommanderError } from 'commander';
import { ArgumentError, StsError } from '../errors.js';
import { DROP_POLICIES } from '../geometry/boxes.js';
import { DEFAULT_DROP_POLICY, DEFAULT_FALLBACK, FALLBACKS } from '../pipeline/segment-then-segment.js';
import { demoDefaults, runDemo } from './commands/demo.js';
import { runMetrics } from './commands/metrics.js';
import { type CompareOptions, runCompare } from './commands/compare.js';
import { parseShard, runPredict } from './commands/predict.js';
import { DEFAULT_GAP_WEIGHT, TARGETS, runTrain } from './commands/train.js';
import { CORE_TARGETS, DEFAULT_CORE_DEPTH } from '../instances/core-target.js';
import { GAP_WEIGHTS } from '../instances/gap-weights.js';
import { runModels } from './commands/models.js';
import { runExport } from './commands/export.js';
import { runQueueAdd, runQueueRetry, runQueueStatus, runQueueWork } from './commands/queue.js';
import { DEFAULT_QUEUE } from '../queue/cohort-queue.js';
import { DEFAULT_REDIS, REDIS_PASSWORD_ENV } from '../queue/redis-connection.js';
import { runEvaluate } from './commands/evaluate.js';
import { runReproduce } from './commands/reproduce.js';
import { runSemiSyntheticAorta } from './commands/semi-synthetic.js';
import { MODEL_NAMES } from '../models/index.js';
import { FINE_TUNING, STAGES } from '../train/presets.js';
import { runFinetune } from './commands/finetune.js';
import { TRAINING_DEFAULTS } from '../train/trainer.js';
import { FINE_CROPS } from '../train/sampler.js';
import { ROUGH_INPUTS } from '../types/training-scale.js';
import { INFERENCE_PRECISIONS } from '../engine/torch/index.js';
import { integer, nonNegativeInteger, nonNegativeNumber, oneOf, positiveInteger, positiveNumber, roughScale, share, stainFactor } from './options.js';
import { MAX_BATCH } from '../pipeline/prediction-limits.js';
import { MAX_NETWORK_SIZE } from '../types/network.js';

export function buildProgram(): Command {
  const program = new Command('sts')
    .description('Segment-then-Segment: context-preserving crop-based segmentation for large biomedical images')
    .showHelpAfterError('(run sts --help for usage)')
    .exitOverride();

  program
    .command('demo')
    .description("the pretrained nuclei pair on a held-out DSB2018 image and a slide-sized mosaic, as sts predict runs it: overlay, objects and scores against the truth; --train: the paper's comparison, small rough and fine U-Nets trained on 40 DSB2018 images, baseline vs Segment-then-Segment")
    .option('--train', "the paper's comparison instead: train small rough and fine U-Nets here, then the baseline and Segment-then-Segment on the held-out image")
    .option('--no-slide', 'the image only, without the slide-sized mosaic')
    .option('--image <file>', 'image to segment', demoDefaults.image)
    .option('--mask <file>', 'its ground-truth mask', demoDefaults.mask)
    .option('--train-set <folder>', 'with --train: the training set (images/ + masks/); the mosaic takes the images of it the pair held out', demoDefaults.trainSet)
    .option('--size <S>', 'with --train: network input size S (a multiple of 16)', positiveInteger('--size', MAX_NETWORK_SIZE, 'the largest input side this tool feeds'), demoDefaults.size)
    .option('--epochs <n>', "with --train: rough network's epochs (the fine network trains half as many)", positiveInteger('--epochs'), demoDefaults.epochs)
    .option('--features <n>', 'with --train: U-Net base features (the paper: 32)', positiveInteger('--features'), demoDefaults.features)
    .option('--stand-in', 'the comparison without training: both networks are a non-learned Otsu threshold')
    .option('--drop-policy <policy>', `boxes larger than the image: ${DROP_POLICIES.join(' | ')}`, oneOf('--drop-policy', DROP_POLICIES), DEFAULT_DROP_POLICY)
    .option('--fallback <kind>', `with --train: output when no box survives: ${FALLBACKS.join(' | ')}`, oneOf('--fallback', FALLBACKS), DEFAULT_FALLBACK)
    .option('--out <folder>', 'where to write the result folders (and with --train the runs, masks and the overlay)', demoDefaults.out)
    .action(async (o) => withInterrupt((signal) => runDemo(o, signal), 'interrupted; run the demo again: finished results and trained epochs are kept'));

  program
    .command('models')
    .description('list the pretrained model pairs of the catalog, for --model <name> of predict and evaluate')
    .action(async () => runModels());

  program
    .command('export')
    .description('write a model of sts train as ONNX (opset 13, NCHW, batch norm folded) with its sidecar <file>.json, checked against TensorFlow.js first')
    .requiredOption('--onnx <model>', "the model folder to export (a run's best/)")
    .requiredOption('--out <file>', 'the .onnx file to write')
    .action(async (o) => {
      await runExport(o);
    });

  program
    .command('metrics')
    .description("per-image DSC, IoU, precision and recall (the reference's rules) of predicted masks against truth, as CSV; with --instances also instance AP, merged and split of label maps")
    .argument('<pred...>', 'predicted mask images')
    .requiredOption('--truth <masks...>', 'ground-truth mask images, one per prediction, same order')
    .option('--instances', 'also score objects: files are label maps (16-bit PNG, 32-bit TIFF; a file with one value besides 0 counts as a mask, its connected components the objects); adds AP at IoU 0.5, 0.75 and 0.5:0.95 (DSB2018), merged, split and object counts')
    .action(async (preds: string[], o: { truth: string[]; instances?: boolean }) => runMetrics(preds, o.truth, { instances: o.instances }));

  program
    .command('compare')
    .description('two evaluations of the same images (per_image.csv of sts evaluate or reproduce): before, after, and the paired difference with a bootstrap interval')
    .argument('<before>', 'per_image.csv of the first evaluation')
    .argument('<after>', 'per_image.csv of the second, on the same images')
    .option('--resamples <n>', 'bootstrap resamples of the images', positiveInteger('--resamples'), 4000)
    .option('--seed <n>', 'seed of the resampling', integer('--seed'), 1)
    .option('--out <file>', 'also write the table to this Markdown file')
    .action(async (before: string, after: string, o: CompareOptions) => runCompare(before, after, o));

  program
    .command('train')
    .description('train the rough or the fine network on a dataset (paper hyper-parameters by default); resumable')
    .requiredOption('--data <folder|preset>', 'dataset folder (DSB2018, Kvasir-SEG, AVT or images/ + masks/), or cells | polyp')
    .option('--model <name>', `${MODEL_NAMES.join(' | ')} (default: unet, or the --init model's)`, oneOf('--model', MODEL_NAMES))
    .option('--size <S>', "network input size S, a multiple of 16 (default: 64, or the --init model's)", positiveInteger('--size', MAX_NETWORK_SIZE, 'the largest input side this tool feeds'))
    .option('--stage <stage>', 'rough: whole images at S x S; fine: component crops', oneOf('--stage', STAGES), 'rough')
    .requiredOption('--out <folder>', 'run folder, e.g. runs/cells-unet-64-rough')
    .option('--init <pair|folder>', `fine-tune: start from the weights of a catalog pair's network for --stage (sts models lists them), a pair folder, or a model folder (a run's best/); the architecture is that model's, and the defaults become fine-tuning's (lr ${FINE_TUNING.learningRate}, ${FINE_TUNING.epochs} epochs, batch ${FINE_TUNING.batchSize}, early stop after ${FINE_TUNING.patience}, ~${FINE_TUNING.samplesPerEpoch} samples per epoch)`)
    .option('--epochs <n>', "epochs (default: the paper's for the dataset; fine: half)", positiveInteger('--epochs'))
    .option('--batch <n>', "batch size (default: the paper's)", positiveInteger('--batch'))
    .option('--lr <rate>', "Adam learning rate (default: the paper's)", positiveNumber('--lr'))
    .option('--patience <n>', 'stop after n epochs without a better validation DSC (default: every epoch runs; with --init 6)', positiveInteger('--patience'))
    .option('--repeat <n>', 'draws per image per epoch, each its own augmentation and crop (default 1; with --init enough for ~256 samples per epoch): for a few large labelled images', positiveInteger('--repeat'))
    .option('--split <file>', 'train on this split.json (copied into --out) instead of splitting the dataset afresh')
    .option('--color-jitter <amount>', 'colour augmentation for stains that vary between sites (H&E): each channel scaled by 1 +- amount and shifted by up to 64 x amount, with probability 0.8 (default 0: none, as the reference)', positiveNumber('--color-jitter'))
    .option('--stain-jitter <factor>', 'H&E stain augmentation (colour deconvolution, Tellez et al. 2018): the staining made up to factor x paler or darker, each stain up to sqrt(factor) x more or less, with probability 0.8, e.g. 3 for slides from other sites (default 1: none)', stainFactor('--stain-jitter'))
    .option('--balance-appearance', 'draw the rarer kinds of training image (fluorescence, brightfield, stained, told apart by their colours) more often: each sqrt(largest kind / its kind) times per epoch; validation as before')
    .option('--seed <n>', 'seed for the split, the weights and the data order', integer('--seed'), 42)
    .option('--features <n>', 'width of the first stage (U-Net 32, ResUNet++ 16)', positiveInteger('--features'))
    .option('--resize <mode>', 'image resize: nearest (as the reference) | bilinear', oneOf('--resize', ['nearest', 'bilinear'] as const), 'nearest')
    .option('--drop-policy <policy>', `fine crops larger than the image: ${DROP_POLICIES.join(' | ')}`, oneOf('--drop-policy', DROP_POLICIES), 'reference')
    .option('--defaults <framework>', "whose defaults training follows where frameworks differ (initialisation, batch norm's running variance, Adam's epsilon): pytorch (the reference) | tfjs (before 2026-12)", oneOf('--defaults', TRAINING_DEFAULTS), 'pytorch')
    .option('--fine-crops <how>', "fine stage: reference (boxes of the un-augmented mask carried through the augmentation, as the reference) | augmented-mask (boxes of the augmented mask; before 2026-12)", oneOf('--fine-crops', FINE_CROPS), 'reference')
    .option('--rough-input <kind>', "rough stage: whole-image (the paper: each image resized to S x S; the default, or the --init model's) | fixed-scale (S x S windows of images downscaled by one factor, for large images)", oneOf('--rough-input', ROUGH_INPUTS))
    .option('--rough-scale <factor>', 'rough stage: fixed-scale windows of the images downscaled by this factor (original pixels per input pixel; default: the median training image over S), e.g. 2 for 40x H&E nuclei', roughScale('--rough-scale'))
    .option('--scale-jitter <j>', "rough stage, fixed-scale windows: each window's scale multiplied by 2^u, u uniform in [-j, j], so that the network meets objects larger and smaller than the training set's (e.g. 0.6 for nuclei whose size varies between tissues; default 0)", nonNegativeNumber('--scale-jitter'))
    .option('--freeze-encoder <epochs>', "with --init: the encoder (the downsampling path) keeps its pretrained weights for this many first epochs while the rest learns (default 0)", nonNegativeInteger('--freeze-encoder'))
    .option('--targets <kind>', "fine stage: semantic (the paper: the foreground) | instances (foreground and object cores, so touching objects come out apart; needs an instances/ folder of label maps or one mask file per object) | flows (foreground and centre flows, as Cellpose: each object pixel points at its object's centre; the same labels). Default: semantic, or what the --init network outputs", oneOf('--targets', TARGETS))
    .option('--max-crop <px>', 'fine stage: boxes with a longer side are learned as random S x S windows at full resolution (windows <px> wide, enlarged to S x S, where <px> is below S), and the model records it so that sts predict cuts such boxes the same way (default: every box squeezed to S x S, as the paper)', positiveInteger('--max-crop'))
    .option('--gap-weight <w0>', `--targets instances: the cores also learn by a cross-entropy weighted up to 1 + w0 between neighbouring cores (the U-Net paper's weight map, sigma ${GAP_WEIGHTS.sigma} px); 0: soft Dice alone (default ${DEFAULT_GAP_WEIGHT})`, nonNegativeNumber('--gap-weight'))
    .option('--core-depth <share>', `--targets instances: an object's core is its pixels deeper than this share of its largest depth (distance to its border); larger leaves wider gaps between touching objects' cores (default ${DEFAULT_CORE_DEPTH})`, share('--core-depth'))
    .option('--flow-weight <w>', "--targets flows: the weight of the flows' squared error (on the 0..1 outputs) beside the foreground's soft Dice (default 50, Cellpose's balance)", positiveNumber('--flow-weight'))
    .option('--core-target <kind>', "--targets instances: what the core channel learns: binary (the 0/1 core; default) | depth (each pixel's depth in its object, 0 at its border to 1 at its deepest, so that touching objects whose cores join can still be parted at a deeper level; a --init depth network keeps it)", oneOf('--core-target', CORE_TARGETS))
    .option('--resume', 'continue the run in --out from its last completed epoch')
    .action(async (o) => withInterrupt((signal) => runTrain(o, signal), `interrupted; the last completed epoch is saved: resume with the same command and --resume`));

  program
    .command('finetune')
    .description("adapt a pretrained pair to your own labelled images: split them, fine-tune the rough and the fine network from the pair, score both pairs on the held-out images, write the new pair with its model card")
    .requiredOption('--model <pair>', 'the pair to start from: a catalog name (sts models lists them) or a pair folder')
    .requiredOption('--data <folder>', 'your labelled images: images/ + masks/ (and instances/ label maps for an instance pair), or DSB2018 / Kvasir-SEG layouts')
    .requiredOption('--out <folder>', 'the new pair folder (rough/, fine/, split.json, README.md); the trainings go to <out>.training/')
    .option('--split <file>', 'a split.json of --data to use (train / valid / test) instead of a new one')
    .option('--test <share>', 'share of the images held out for the before / after table', positiveNumber('--test'), 0.2)
    .option('--epochs <n>', `epochs per network at most (default ${FINE_TUNING.epochs}; each stops early after --patience)`, positiveInteger('--epochs'))
    .option('--patience <n>', `stop a network after n epochs without a better validation DSC (default ${FINE_TUNING.patience})`, positiveInteger('--patience'))
    .option('--batch <n>', `batch size (default ${FINE_TUNING.batchSize})`, positiveInteger('--batch'))
    .option('--lr <rate>', `Adam learning rate (default ${FINE_TUNING.learningRate})`, positiveNumber('--lr'))
    .option('--repeat <n>', `draws per image per epoch (default: enough for ~${FINE_TUNING.samplesPerEpoch} samples per epoch)`, positiveInteger('--repeat'))
    .option('--rough-scale <factor>', "the rough network sees windows of your images downscaled by this factor (original pixels per input pixel; default: as the pair's rough network), e.g. 2 for 40x H&E nuclei", roughScale('--rough-scale'))
    .option('--max-crop <px>', "the fine network learns boxes with a longer side as S x S windows at full resolution (<px> wide and enlarged where <px> is below S), and the pair records it for sts predict (default: as the pair's fine network), e.g. 64 for dense H&E nuclei", positiveInteger('--max-crop'))
    .option('--seed <n>', 'seed for the split, the data order and the augmentation', integer('--seed'), 42)
    .option('--color-jitter <amount>', 'colour augmentation for stains that vary between sites (H&E): each channel scaled by 1 +- amount and shifted by up to 64 x amount, with probability 0.8 (default 0: none, as the reference)', positiveNumber('--color-jitter'))
    .option('--stain-jitter <factor>', 'H&E stain augmentation (colour deconvolution, Tellez et al. 2018): the staining made up to factor x paler or darker, each stain up to sqrt(factor) x more or less, with probability 0.8, e.g. 3 for slides from other sites (default 1: none)', stainFactor('--stain-jitter'))
    .option('--scale-jitter <j>', "the rough network's windows at scales varied by 2^u, u uniform in [-j, j] (as sts train; e.g. 0.6 for H&E nuclei; default 0)", nonNegativeNumber('--scale-jitter'))
    .option('--freeze-encoder <epochs>', "both networks keep their pretrained encoder for this many first epochs while the rest learns (default 0)", nonNegativeInteger('--freeze-encoder'))
    .option('--scratch', "train the pair's architecture from fresh weights instead, with the same split, epochs and samples (lr default 1e-3): what the pretrained weights are worth")
    .option('--resume', 'continue an interrupted fine-tuning of --out')
    .action(async (o) => withInterrupt((signal) => runFinetune(o, signal), 'interrupted; each network keeps its last completed epoch: resume with the same command and --resume'));

  program
    .command('evaluate')
    .description('baseline and Segment-then-Segment on a split of a dataset at the original resolution: per-image CSV and mean ± std')
    .option('--model <name>', 'a pretrained pair from the catalog (sts models lists them), instead of --rough and --fine')
    .option('--rough <model>', 'rough network: a folder (a run\'s best/) or an .onnx file with its sidecar')
    .option('--fine <model>', 'fine network (folder or .onnx); without it only the baseline is evaluated')
    .requiredOption('--data <folder|preset>', 'the dataset to evaluate on (any images/ + masks/ folder, or a preset)')
    .option('--split <file>', "a split.json (a training run's, or a catalog pair's): evaluate its --part; without it, every image of --data")
    .option('--part <part>', 'train | valid | test', oneOf('--part', ['train', 'valid', 'test'] as const), 'test')
    .option('--drop-policy <policy>', `boxes larger than the image: ${DROP_POLICIES.join(' | ')}`, oneOf('--drop-policy', DROP_POLICIES), DEFAULT_DROP_POLICY)
    .option('--fallback <kind>', `output when no box survives: ${FALLBACKS.join(' | ')}`, oneOf('--fallback', FALLBACKS), DEFAULT_FALLBACK)
    .option('--crop-batch <n>', 'crops per fine-network call (1: one at a time, as the reference)', positiveInteger('--crop-batch', MAX_BATCH, 'a larger batch is memory, not speed'), 32)
    .option('--precision <format>', 'number format of inference on the torch engine: float32 (as the paper) | bfloat16 (about 1.9x faster on CPUs with AVX512-BF16; mean DSC within 0.001 on the cells test set) (default: STS_INFERENCE_PRECISION, else float32)', oneOf('--precision', INFERENCE_PRECISIONS))
    .option('--grow-crops <rounds>', 'crops whose fine mask reaches their border where the image goes on are grown there and segmented again, up to this many rounds (default 0: as the paper)', nonNegativeInteger('--grow-crops'))
    .option('--strict', "refuse to score images of the split the models were trained on (its train and valid parts), instead of warning")
    .requiredOption('--out <folder>', 'where per_image.csv, timings.csv and summary.md go')
    .action(async (o) => withInterrupt(async (signal) => void (await runEvaluate(o, signal)), 'interrupted; nothing was written'));

  program
    .command('reproduce')
    .description("the paper's experiment: train rough and fine networks per input size, evaluate baseline vs StS, write the report")
    .requiredOption('--data <folder|preset>', 'cells | polyp | aorta, or a dataset folder')
    .option('--model <name>', MODEL_NAMES.join(' | '), oneOf('--model', MODEL_NAMES), 'unet')
    .option('--sizes <list>', 'input sizes S, comma-separated', sizeList, [32, 64, 128])
    .option('--epochs <n[,n...]>', "rough epochs (fine: half), one for all sizes or one per size; default the paper's", epochList)
    .option('--batch <n>', "batch size (default: the paper's)", positiveInteger('--batch'))
    .option('--lr <rate>', "Adam learning rate (default: the paper's)", positiveNumber('--lr'))
    .option('--features <n>', 'width of the first stage', positiveInteger('--features'))
    .option('--seed <n>', 'seed for the split, the weights and the data order', integer('--seed'), 42)
    .option('--drop-policy <policy>', `boxes larger than the image: ${DROP_POLICIES.join(' | ')}`, oneOf('--drop-policy', DROP_POLICIES), 'reference')
    .option('--fallback <kind>', `output when no box survives: ${FALLBACKS.join(' | ')}`, oneOf('--fallback', FALLBACKS), 'empty')
    .option('--examples <n>', 'example images in the overlay figure', positiveInteger('--examples'), 3)
    .option('--runs <folder>', 'where the training runs go', 'runs')
    .requiredOption('--out <folder>', 'report folder, e.g. docs/results/cells-unet')
    .action(async (o) => withInterrupt((signal) => runReproduce(o, process.argv.slice(2), signal), 'interrupted; rerun the same command to continue where it stopped'));

  program
    .command('semi-synthetic-aorta')
    .description("paint CT-like volumes around real AVT aorta label volumes (the aorta preset's data; results on it are semi-synthetic)")
    .option('--labels <folder>', 'folder of <patient>.seg.nrrd label volumes (default: the AVT labels in the data folder)')
    .option('--out <folder>', "where the set goes (default: the aorta preset's cache folder)")
    .option('--seed <n>', 'seed of the painted anatomy and noise', integer('--seed'), 42)
    .action(async (o) => withInterrupt((signal) => runSemiSyntheticAorta(o, signal), 'interrupted; finished patients are kept: run the same command again to do the rest'));

  withPredictionOptions(
    program
      .command('predict')
      .description('segment images of any size (PNG, JPEG, TIFF incl. tiled, pyramidal, OME and BigTIFF) with trained rough and fine models; one result folder per image'),
  )
    .option('--precision <format>', 'number format of inference on the torch engine: float32 (as the paper) | bfloat16 (about 1.9x faster on CPUs with AVX512-BF16; mean DSC within 0.001 on the cells test set) (default: STS_INFERENCE_PRECISION, else float32)', oneOf('--precision', INFERENCE_PRECISIONS))
    .option('--series <n>', 'which series of an OME-TIFF to segment, 0-based (default: the one with the largest image; the choice is logged)', (value: string) => {
      const n = integer('--series')(value);
      if (n < 0) throw new ArgumentError('--series', `must be 0 or more (the first series is 0), got '${value}'`);
      return n;
    })
    .option('--max-pixels <n>', 'skip (as failed, named) images with more pixels than this, read from the header before any work', positiveInteger('--max-pixels'))
    .option('--shard <i/n>', 'only the i-th (0-based) of n deterministic parts of the inputs, for array jobs (SLURM: --shard $SLURM_ARRAY_TASK_ID/n; Kubernetes Indexed Jobs: $JOB_COMPLETION_INDEX/n)', parseShard)
    .action(async (inputs: string[], o) => withInterrupt((signal) => runPredict(inputs, o, signal), 'interrupted; finished images are kept: run the same command again to do the rest'));

  const queue = program.command('queue').description('a cohort over many machines: one job per image on a Redis-backed BullMQ queue, workers anywhere');
  const target = (command: Command) =>
    command
      .option('--redis <url>', `the Redis server: redis://[user@]host[:port][/db], or rediss://... for TLS (a private CA: NODE_EXTRA_CA_CERTS=<ca.pem>)`, DEFAULT_REDIS)
      .option('--redis-password-file <file>', `a file holding the Redis password (or set ${REDIS_PASSWORD_ENV}); never printed, and not seen by other users as a password in --redis is (ps)`)
      .option('--queue <name>', 'the queue', DEFAULT_QUEUE);
  withPredictionOptions(target(queue.command('add').description('add one job per image (absolute paths, as the workers must see them); images queued or done before are not added again')))
    .action(async (inputs: string[], o) => runQueueAdd(inputs, o));
  target(
    queue
      .command('work')
      .description(
        'take jobs until SIGTERM or Ctrl-C (the current job finishes first), loading each model pair once. A job is refused at once, by name, ' +
          'when a path it names (after symlinks) is outside the folders given here: the worker reads and writes nothing else. ' +
          'Catalog pairs (--model <name> of sts queue add) are always allowed',
      ),
  )
    .option('--inputs <dir>', 'a folder the images of jobs may be in (required; give it again for more)', collect)
    .option('--out <dir>', 'a folder the result folders of jobs may be written under (required; give it again for more)', collect)
    .option('--models <dir>', 'a folder the model folders and .onnx files of jobs may be in (give it again for more; without it, catalog pairs only)', collect)
    .option('--max-pixels <n>', 'refuse images with more pixels than this (width x height, read from the header), failing their jobs for good', positiveInteger('--max-pixels'))
    .option('--concurrency <n>', 'jobs at once in this process', positiveInteger('--concurrency'), 1)
    .option('--lock-duration <ms>', 'how long a job stays locked without renewal; a dead worker\'s job is taken again within this plus --stalled-interval', positiveInteger('--lock-duration'), 60_000)
    .option('--stalled-interval <ms>', 'how often this worker checks for jobs of dead workers', positiveInteger('--stalled-interval'), 30_000)
    .action(async (o) => withInterrupt((signal) => runQueueWork(o, signal), 'worker stopped'));
  target(queue.command('status').description('waiting, active, done and failed counts, throughput and ETA, and the failed images with their errors'))
    .action(async (o) => runQueueStatus(o));
  target(queue.command('retry-failed').description('put every failed job back in the queue, its attempts counted from zero')).action(async (o) => runQueueRetry(o));

  return program;
}

/** The options of a prediction run (pipeline/predictor.ts), declared once for sts predict and sts queue add. */
function withPredictionOptions(command: Command): Command {
  return command
    .argument('<inputs...>', 'image files or folders of images')
    .option('--model <name>', 'a pretrained pair from the catalog by name (sts models lists them), instead of --rough and --fine')
    .option('--rough <model>', "rough model: a folder of sts train (a run's best/) or an .onnx file with its sidecar <file>.json")
    .option('--fine <model>', 'fine model: a folder or an .onnx file (either kind with either kind)')
    .requiredOption('--out <folder>', 'where the result folders go (<out>/<image name>/)')
    .option('--batch <n>', 'tiles and crops per network call (32 is about 14% faster; 8 keeps a 40,000 x 40,000 slide under 1.5 GB)', positiveInteger('--batch', MAX_BATCH, 'a larger batch is memory, not speed'), 8)
    .option('--overlap <px>', 'overlap of rough tiles, in downscaled pixels, below S (default S / 4)', nonNegativeInteger('--overlap'))
    .option('--max-crop <px>', 'boxes with a longer side are segmented as S x S windows at full resolution (<px> wide and enlarged where <px> is below S) instead of one squeezed crop (default: no limit, as the paper)', positiveInteger('--max-crop'))
    .option('--grow-crops <rounds>', 'crops whose fine mask reaches their border where the image goes on are grown there and segmented again, up to this many rounds (default 0: as the paper)', nonNegativeInteger('--grow-crops'))
    .option('--within-rough', 'keep the fine masks inside the rough mask (large images: the fine network may refine what the rough pass found, not draw objects around it; default off, as the paper)')
    .option('--rough-only-up-to <px>', 'with --within-rough: boxes holding at most this many rough-mask pixels keep the rough answer (the rough probability upsampled smoothly inside the box), without a fine crop (default: all refined)', positiveInteger('--rough-only-up-to'))
    .option('--scale <factor>', "original pixels per rough input pixel (default: the rough model's training scale)", roughScale('--scale'))
    .option('--no-tiling', "always one S x S rough pass, as the paper (ignore the training scale)")
    .option('--drop-policy <policy>', `boxes larger than the image: ${DROP_POLICIES.join(' | ')}`, oneOf('--drop-policy', DROP_POLICIES), DEFAULT_DROP_POLICY)
    .option('--resize <mode>', 'crop and mask resize: nearest (as the reference) | bilinear', oneOf('--resize', ['nearest', 'bilinear'] as const), 'nearest')
    .option('--min-size <px>', "instance pairs: objects smaller than this many pixels are dropped from the labels and objects files, as Cellpose's min_size (default 15; 0 keeps all)", nonNegativeInteger('--min-size'));
}

/** Gathers a repeatable option's values (--inputs a --inputs b). */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function epochList(value: string): number[] {
  const parse = positiveInteger('--epochs');
  return value.split(',').map((v) => parse(v.trim()));
}

function sizeList(value: string): number[] {
  const parse = positiveInteger('--sizes', MAX_NETWORK_SIZE, 'the largest input side this tool feeds');
  return value.split(',').map((v) => parse(v.trim()));
}

/** Runs `work` with an AbortSignal that Ctrl-C triggers; a second Ctrl-C exits at once. */
async function withInterrupt(work: (signal: AbortSignal) => Promise<void>, message: string): Promise<void> {
  const controller = new AbortController();
  // SIGTERM (a scheduler, `kill`) and SIGHUP (a closed terminal) stop the work as Ctrl-C does: the current step
  // finishes or is abandoned cleanly, nothing half-written stays. A second signal ends the process at once.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(128 + (osConstants.signals[name] ?? 2));
    controller.abort();
  };
  for (const s of signals) process.on(s, onSignal);
  try {
    await work(controller.signal);
  } catch (error) {
    if (controller.signal.aborted) throw new StsError(message);
    throw error;
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

/** Runs the command line `argv` (node, script, args...); returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
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
