/** The one rule for rough + fine pairs, shared by Node's loadModelPair and the page's worker. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PairMember, pairProblem, trainedStage } from '../../src/catalog/pair-check.js';

const member = (name: string, o: Partial<PairMember> & { stage?: string } = {}): PairMember => ({
  name,
  size: o.size ?? 64,
  channels: o.channels ?? 3,
  metadata: o.metadata ?? (o.stage ? { sts: { stage: o.stage, model: { name: 'unet' } } } : {}),
});

describe('pairProblem', () => {
  it('accepts a pair at one S and one channel count, trained for its stages or with nothing recorded', () => {
    assert.equal(pairProblem(member('r', { stage: 'rough' }), member('f', { stage: 'fine' })), undefined);
    assert.equal(pairProblem(member('r.onnx', { channels: 1 }), member('f', { channels: 1 })), undefined);
  });
  it('names both models and both sizes when S differs', () => {
    assert.equal(
      pairProblem(member('a/rough', { size: 64 }), member('b/fine.onnx', { size: 32 })),
      'the rough model (a/rough) takes 64 x 64 inputs but the fine model (b/fine.onnx) takes 32 x 32; Segment-then-Segment needs both at the same size S: load a pair trained with the same --size',
    );
  });
  it('refuses different channels, and channels other than gray or RGB', () => {
    assert.match(pairProblem(member('r', { channels: 3 }), member('f', { channels: 1 })) ?? '', /rough model \(r\) takes 3 channels but the fine model \(f\) 1/);
    assert.match(pairProblem(member('r', { channels: 4 }), member('f', { channels: 4 })) ?? '', /take 4 channels; .*gray \(1\) or RGB \(3\)/);
  });
  it('says to swap a pair given the wrong way round', () => {
    assert.equal(pairProblem(member('x', { stage: 'fine' }), member('y', { stage: 'rough' })), 'the rough model (x) was trained as the fine network; swap the two models');
  });
  it('reads the stage only where sts train records it', () => {
    assert.equal(trainedStage({ sts: { stage: 'rough' } }), 'rough');
    assert.equal(trainedStage({ stage: 'rough' }), undefined);
    assert.equal(trainedStage({ sts: 'rough' }), undefined);
  });
});
