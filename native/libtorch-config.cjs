#!/usr/bin/env node
// Where libtorch is, for binding.gyp and scripts/build-native.mjs.
// STS_LIBTORCH names a libtorch folder (an unpacked libtorch download, or a pip install's site-packages/torch);
// without it, Debian's libtorch-dev (headers in /usr/include, libraries in /usr/lib/<multiarch>).
// Usage: node libtorch-config.cjs include|libdir|libs|abi|check
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execSync } = require('node:child_process');

function multiarchLibdir() {
  try {
    const triple = execSync('gcc -print-multiarch', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    if (triple) return `/usr/lib/${triple}`;
  } catch {}
  return '/usr/lib/x86_64-linux-gnu';
}

function locate() {
  const root = process.env.STS_LIBTORCH;
  if (root) {
    const r = path.resolve(root);
    return { root: r, includes: [path.join(r, 'include'), path.join(r, 'include/torch/csrc/api/include')],
      libdir: path.join(r, 'lib'), cmake: [path.join(r, 'share/cmake/Torch/TorchConfig.cmake')] };
  }
  const libdir = multiarchLibdir();
  return { root: '/usr', includes: ['/usr/include', '/usr/include/torch/csrc/api/include'], libdir,
    cmake: [path.join(libdir, 'cmake/Torch/TorchConfig.cmake'), '/usr/share/cmake/Torch/TorchConfig.cmake'] };
}

function problems(l) {
  const out = [];
  if (!fs.existsSync(path.join(l.includes[0], 'ATen/ATen.h'))) out.push(`no ATen headers in ${l.includes[0]}`);
  if (!fs.existsSync(path.join(l.libdir, 'libtorch_cpu.so'))) out.push(`no libtorch_cpu.so in ${l.libdir}`);
  return out;
}

function abi(l) {
  for (const f of l.cmake) {
    try {
      const m = /_GLIBCXX_USE_CXX11_ABI=(\d)/.exec(fs.readFileSync(f, 'utf8'));
      if (m) return m[1];
    } catch {}
  }
  return '1';
}

function libs(l) {
  const names = ['c10', 'torch_cpu', 'torch'];
  // A CUDA build: link its kernels too (--no-as-needed keeps them, so their operators register).
  for (const n of ['c10_cuda', 'torch_cuda']) if (fs.existsSync(path.join(l.libdir, `lib${n}.so`))) names.push(n);
  return ['-Wl,--no-as-needed', ...names.map((n) => `-l${n}`), '-Wl,--as-needed'].join(' ');
}

const l = locate();
const what = process.argv[2];
if (what === 'include') console.log(l.includes.join(' '));
else if (what === 'libdir') console.log(l.libdir);
else if (what === 'libs') console.log(libs(l));
else if (what === 'abi') console.log(abi(l));
else if (what === 'check') {
  const p = problems(l);
  console.log(JSON.stringify({ ok: p.length === 0, root: l.root, problems: p }));
} else {
  console.error('usage: libtorch-config.cjs include|libdir|libs|abi|check');
  process.exit(2);
}
