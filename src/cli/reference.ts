/**
 * The CLI reference (docs/cli.md), written from the commands' own definitions in program.ts: each command's
 * description, usage, arguments and options with their defaults, so the page cannot say other than `--help` does.
 * `npm run docs:cli` writes it (scripts/docs-cli.mjs); test/cli/reference.test.ts fails when the page is stale.
 */
import { sep } from 'node:path';
import type { Argument, Command, Option } from 'commander';
import { packageRoot } from '../paths.js';

const HEADER = [
  '# The `sts` command: reference',
  '',
  '<!-- Generated from src/cli/program.ts by `npm run docs:cli`; do not edit by hand (a test fails when it is stale). -->',
  '',
  "Every command and option, as `sts <command> --help` prints them. Installed as a package, run `npx sts ...`; in a",
  'clone, after `npm run build`, `node dist/src/cli/main.js ...`. What the commands are for, with examples: [the',
  'manual](README.md).',
  '',
];

/** Markdown of the whole program: a table of contents, then one section per command (subcommands nested). */
export function cliReference(program: Command): string {
  const commands = visible(program.commands);
  const lines = [...HEADER, '## Commands', ''];
  for (const c of commands) {
    lines.push(`- [\`${path(c)}\`](#${anchor(c)}): ${firstSentence(c.description())}`);
    for (const sub of visible(c.commands)) lines.push(`  - [\`${path(sub)}\`](#${anchor(sub)}): ${firstSentence(sub.description())}`);
  }
  lines.push('');
  if (program.options.some((o) => !o.hidden)) lines.push(...commandSection(program, 2, 'Options of `sts` itself'));
  for (const c of commands) {
    lines.push(...commandSection(c, 2));
    for (const sub of visible(c.commands)) lines.push(...commandSection(sub, 3));
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

function visible(commands: readonly Command[]): Command[] {
  return commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden);
}

/** `sts queue add`: the command's name with its parents'. */
function path(c: Command): string {
  const names: string[] = [];
  for (let at: Command | null = c; at; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/** GitHub's anchor of the heading `` `sts queue add` ``. */
function anchor(c: Command): string {
  return path(c).replace(/\s+/g, '-');
}

/** The description up to its first clause break (". X", ";", ":"), unless that would leave a parenthesis open. */
function firstSentence(text: string): string {
  const cut = text.search(/\.\s+[A-Z]|[;:]\s/);
  const head = cut > 0 ? text.slice(0, cut) : text;
  const open = (head.match(/\(/g) ?? []).length !== (head.match(/\)/g) ?? []).length;
  return escape(open ? text : head);
}

function commandSection(c: Command, level: number, title?: string): string[] {
  const lines = [`${'#'.repeat(level)} ${title ?? `\`${path(c)}\``}`, ''];
  if (!title) lines.push(escape(c.description()), '', '```', `${path(c)} ${c.usage()}`.trimEnd(), '```', '');
  const args = c.registeredArguments;
  if (args.length > 0) {
    lines.push('| Argument | Description |', '|---|---|');
    for (const a of args) lines.push(`| ${argumentTerm(a)} | ${escape(a.description)} |`);
    lines.push('');
  }
  const options = c.options.filter((o) => !o.hidden);
  if (options.length > 0) {
    lines.push('| Option | Description | Default |', '|---|---|---|');
    for (const o of options) lines.push(`| \`${o.flags}\`${o.mandatory ? ' (required)' : ''} | ${escape(o.description)} | ${defaultOf(o)} |`);
    lines.push('');
  }
  return lines;
}

function argumentTerm(a: Argument): string {
  const name = `${a.name()}${a.variadic ? '...' : ''}`;
  return `\`${a.required ? `<${name}>` : `[${name}]`}\``;
}

/** The default as --help shows it, with this package's own folder written as <package>/ (the same everywhere). */
function defaultOf(o: Option): string {
  if (o.defaultValueDescription) return `\`${o.defaultValueDescription}\``;
  if (o.defaultValue === undefined || o.negate) return '';
  const value = JSON.stringify(o.defaultValue).replaceAll(packageRoot.endsWith(sep) ? packageRoot : `${packageRoot}${sep}`, '<package>/');
  return `\`${value}\``;
}

/** Table cells and descriptions: pipes escaped, angle brackets kept from becoming HTML. */
function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
