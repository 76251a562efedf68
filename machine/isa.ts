/**
 * The guest's instruction set and its assembler. A deliberately tiny RISC: sixteen 32-bit registers r0..r15
 * (r15 is also `lr`, the link register of call/ret), a pc, word-addressed RAM, and fixed two-word
 * instructions:
 *
 *   word 0: opcode (bits 0-7) | rd << 8 | ra << 12 | rb << 16 | IMM (bit 20: operand b is the immediate)
 *           | NOBASE (bit 21: a memory operand has no base register)
 *   word 1: the immediate (a constant, an address, a branch target, a port number)
 *
 * Opcode 0 is invalid on purpose, so a guest that runs into zeroed memory faults at once. The assembler
 * text format is documented in docs/machine.md and by the programs in machine/programs/.
 */

export enum Op {
  NOP = 1,
  LI,
  MOV,
  ADD,
  SUB,
  MUL,
  DIV,
  REM,
  AND,
  OR,
  XOR,
  SHL,
  SHR,
  SAR,
  LD,
  ST,
  JMP,
  BEQ,
  BNE,
  BLT,
  BGE,
  BGT,
  BLE,
  BEQZ,
  BNEZ,
  CALL,
  RET,
  OUT,
  IN,
  HLT,
  CPUID,
  NCPUS,
  XADD,
  END,
}
export const OP_LIMIT = Op.END + 1;

export const IMM = 1 << 20;
export const NOBASE = 1 << 21;
export const INSN_WORDS = 2;

/** I/O ports. */
export const PORT = {
  /** out: one character to the serial console. */
  SERIAL: 0x3f8,
  /** out: a number, in decimal, to the serial console. */
  SERIAL_NUM: 0x3f9,
  /** in: the number of timer interrupts so far. */
  TIMER: 0x40,
} as const;

export interface AssemblerContext {
  ramWords: number;
  fbBase: number;
  fbWidth: number;
  fbHeight: number;
}

export interface Program {
  /** The image loaded at address 0; execution starts at 0. */
  words: Int32Array;
  /** The source line of each instruction, by address, for fault messages. */
  lines: Map<number, { line: number; text: string }>;
  symbols: Map<string, number>;
  file: string;
  instructions: number;
}

export class AsmError extends Error {
  override name = 'AsmError';
}

const ALU: Record<string, Op> = {
  add: Op.ADD,
  sub: Op.SUB,
  mul: Op.MUL,
  div: Op.DIV,
  rem: Op.REM,
  and: Op.AND,
  or: Op.OR,
  xor: Op.XOR,
  shl: Op.SHL,
  shr: Op.SHR,
  sar: Op.SAR,
};
const BRANCH2: Record<string, Op> = {
  beq: Op.BEQ,
  bne: Op.BNE,
  blt: Op.BLT,
  bge: Op.BGE,
  bgt: Op.BGT,
  ble: Op.BLE,
};
const NOARG: Record<string, Op> = { nop: Op.NOP, hlt: Op.HLT, ret: Op.RET, end: Op.END };

/** Mnemonics, for error messages and the docs. */
export const MNEMONICS = [
  'nop',
  'li',
  'mov',
  ...Object.keys(ALU),
  'ld',
  'st',
  'xadd',
  'jmp',
  'call',
  'ret',
  ...Object.keys(BRANCH2),
  'beqz',
  'bnez',
  'out',
  'in',
  'hlt',
  'cpuid',
  'ncpus',
  'end',
];

/** Splits "a, [b + 1], 'x'" at top-level commas (not inside brackets, parentheses or quotes). */
function splitOperands(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      cur += ch;
      if (ch === '\\') cur += text[++i] ?? '';
      else if (ch === quote) quote = '';
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '(') depth++;
    else if (ch === ']' || ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '' || out.length > 0) out.push(cur.trim());
  return out;
}

/** Removes a `;` or `#` comment, leaving quoted text alone. */
function stripComment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === ';' || ch === '#') return line.slice(0, i);
  }
  return line;
}

const ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, '\\': 92, "'": 39, '"': 34 };

function decodeEscapes(body: string, fail: (m: string) => never): number[] {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\') {
      const e = ESCAPES[body[++i] ?? ''];
      if (e === undefined) fail(`unknown escape '\\${body[i] ?? ''}'`);
      out.push(e);
    } else out.push(body.charCodeAt(i));
  }
  return out;
}

/** A small recursive-descent evaluator: + - * / % << >> & | ~, parentheses, numbers, 'c', symbols. */
function evaluate(
  text: string,
  symbols: Map<string, number>,
  fail: (m: string) => never,
  pass2: boolean,
): number {
  const tokens = text.match(/0[xX][0-9a-fA-F]+|0[bB][01]+|\d+|'(?:\\.|[^'\\])'|[A-Za-z_.$][\w.$]*|<<|>>|\S/g);
  if (!tokens) fail(`missing value`);
  let p = 0;
  const peek = () => tokens[p];
  const next = () => tokens[p++];
  const primary = (): number => {
    const t = next();
    if (t === undefined) fail(`unexpected end of expression '${text}'`);
    if (t === '(') {
      const v = expr();
      if (next() !== ')') fail(`missing ')' in '${text}'`);
      return v;
    }
    if (t === '-') return -primary() | 0;
    if (t === '+') return primary();
    if (t === '~') return ~primary();
    if (/^0[xX]/.test(t)) return Number.parseInt(t.slice(2), 16) | 0;
    if (/^0[bB]/.test(t)) return Number.parseInt(t.slice(2), 2) | 0;
    if (/^\d/.test(t)) {
      const v = Number(t);
      if (v > 0xffffffff) fail(`number ${t} does not fit in 32 bits`);
      return v | 0;
    }
    if (t.startsWith("'")) {
      const chars = decodeEscapes(t.slice(1, -1), fail);
      if (chars.length !== 1) fail(`bad character literal ${t}`);
      return chars[0];
    }
    if (/^[A-Za-z_.$]/.test(t)) {
      if (/^(r\d+|lr)$/i.test(t)) fail(`a register (${t}) cannot be used as a value here`);
      const v = symbols.get(t);
      if (v === undefined) {
        if (pass2) fail(`undefined symbol '${t}'`);
        return 0;
      }
      return v;
    }
    fail(`unexpected '${t}' in expression '${text}'`);
  };
  const mul = (): number => {
    let v = primary();
    for (let op = peek(); op === '*' || op === '/' || op === '%'; op = peek()) {
      next();
      const r = primary();
      if (op !== '*' && r === 0) fail(`division by zero in '${text}'`);
      v = op === '*' ? Math.imul(v, r) : op === '/' ? (v / r) | 0 : (v % r) | 0;
    }
    return v;
  };
  const add = (): number => {
    let v = mul();
    for (let op = peek(); op === '+' || op === '-'; op = peek()) {
      next();
      const r = mul();
      v = op === '+' ? (v + r) | 0 : (v - r) | 0;
    }
    return v;
  };
  const shift = (): number => {
    let v = add();
    for (let op = peek(); op === '<<' || op === '>>'; op = peek()) {
      next();
      const r = add();
      v = op === '<<' ? v << r : v >> r;
    }
    return v;
  };
  const expr = (): number => {
    let v = shift();
    for (let op = peek(); op === '&' || op === '|' || op === '^'; op = peek()) {
      next();
      const r = shift();
      v = op === '&' ? v & r : op === '|' ? v | r : v ^ r;
    }
    return v;
  };
  const v = expr();
  if (p < tokens.length) fail(`unexpected '${tokens[p]}' in expression '${text}'`);
  return v;
}

function register(text: string, fail: (m: string) => never): number {
  const t = text.trim().toLowerCase();
  if (t === 'lr') return 15;
  const m = /^r(\d+)$/.exec(t);
  if (!m || Number(m[1]) > 15) fail(`expected a register r0..r15, got '${text}'`);
  return Number(m[1]);
}

const isRegister = (text: string) => /^(r([0-9]|1[0-5])|lr)$/i.test(text.trim());

/** Assembles `source` (the text of `file`) into a program image. Throws AsmError naming file and line. */
export function assemble(source: string, file: string, ctx: AssemblerContext): Program {
  const predefined: [string, number][] = [
    ['FB_BASE', ctx.fbBase],
    ['FB_WIDTH', ctx.fbWidth],
    ['FB_HEIGHT', ctx.fbHeight],
    ['RAM_WORDS', ctx.ramWords],
    ['SERIAL', PORT.SERIAL],
    ['SERIAL_NUM', PORT.SERIAL_NUM],
    ['TIMER', PORT.TIMER],
  ];
  const lines = source.split(/\r?\n/);
  let words: number[] = [];
  let symbols = new Map<string, number>(predefined);
  const lineMap = new Map<number, { line: number; text: string }>();
  let instructions = 0;

  for (const pass2 of [false, true]) {
    const labels = symbols;
    symbols = new Map<string, number>(predefined);
    if (pass2) for (const [k, v] of labels) symbols.set(k, v);
    words = [];
    instructions = 0;
    for (let n = 0; n < lines.length; n++) {
      const raw = lines[n];
      const fail = (m: string): never => {
        throw new AsmError(`${file}:${n + 1}: ${m}\n    ${raw.trim()}`);
      };
      let text = stripComment(raw).trim();
      // Labels: `name:` (several allowed), at the current address.
      for (let m = /^([A-Za-z_.$][\w.$]*)\s*:/.exec(text); m; m = /^([A-Za-z_.$][\w.$]*)\s*:/.exec(text)) {
        if (!pass2 && symbols.has(m[1])) fail(`'${m[1]}' is defined twice`);
        symbols.set(m[1], words.length);
        text = text.slice(m[0].length).trim();
      }
      if (text === '') continue;
      const sp = text.search(/\s/);
      const mnemonic = (sp < 0 ? text : text.slice(0, sp)).toLowerCase();
      const ops = sp < 0 ? [] : splitOperands(text.slice(sp + 1));
      const want = (k: number) => {
        if (ops.length !== k)
          fail(`'${mnemonic}' takes ${k} operand${k === 1 ? '' : 's'}, got ${ops.length}`);
      };
      const value = (t: string) => evaluate(t, symbols, fail, pass2);
      if (mnemonic.startsWith('.')) {
        switch (mnemonic) {
          case '.equ': {
            want(2);
            const name = ops[0];
            if (!/^[A-Za-z_.$][\w.$]*$/.test(name)) fail(`bad symbol name '${name}'`);
            if (!pass2 && symbols.has(name)) fail(`'${name}' is defined twice`);
            symbols.set(name, value(ops[1]));
            break;
          }
          case '.word':
            if (ops.length === 0) fail(`'.word' needs at least one value`);
            for (const o of ops) words.push(value(o));
            break;
          case '.zero':
          case '.space': {
            want(1);
            const k = evaluate(ops[0], symbols, fail, true);
            if (k < 0 || k > ctx.ramWords) fail(`bad size ${k}`);
            for (let i = 0; i < k; i++) words.push(0);
            break;
          }
          case '.string': {
            want(1);
            const m = /^"((?:\\.|[^"\\])*)"$/.exec(ops[0]);
            if (!m) return fail(`'.string' needs a "quoted string"`);
            words.push(...decodeEscapes(m[1], fail), 0);
            break;
          }
          default:
            fail(`unknown directive '${mnemonic}' (known: .equ .word .zero .space .string)`);
        }
        continue;
      }
      const at = words.length;
      let w0 = 0;
      let imm = 0;
      const reg = (t: string) => register(t, fail);
      /** `[ra]`, `[ra + e]`, `[ra - e]`, `[e]`: sets ra (or NOBASE) into w0 and returns the offset. */
      const memory = (t: string): number => {
        const m = /^\[(.*)\]$/.exec(t.trim());
        if (!m) return fail(`expected a memory operand like [r1 + 4], got '${t}'`);
        const inner = m[1].trim();
        const base = /^(r\d+|lr)\b\s*(.*)$/i.exec(inner);
        if (base) {
          w0 |= reg(base[1]) << 12;
          const rest = base[2].trim();
          if (rest === '') return 0;
          if (!/^[+-]/.test(rest)) fail(`expected + or - after the base register in '${t}'`);
          return value(rest.startsWith('+') ? rest.slice(1) : `0${rest}`);
        }
        w0 |= NOBASE;
        return value(inner);
      };
      if (mnemonic in NOARG) {
        want(0);
        w0 = NOARG[mnemonic];
      } else if (mnemonic in ALU) {
        want(3);
        w0 = ALU[mnemonic] | (reg(ops[0]) << 8) | (reg(ops[1]) << 12);
        if (isRegister(ops[2])) w0 |= reg(ops[2]) << 16;
        else {
          w0 |= IMM;
          imm = value(ops[2]);
        }
      } else if (mnemonic in BRANCH2) {
        want(3);
        w0 = BRANCH2[mnemonic] | (reg(ops[0]) << 12) | (reg(ops[1]) << 16);
        imm = value(ops[2]);
      } else {
        switch (mnemonic) {
          case 'li':
            want(2);
            w0 = Op.LI | (reg(ops[0]) << 8);
            imm = value(ops[1]);
            break;
          case 'mov':
            want(2);
            w0 = Op.MOV | (reg(ops[0]) << 8) | (reg(ops[1]) << 12);
            break;
          case 'ld':
            want(2);
            w0 = Op.LD | (reg(ops[0]) << 8);
            imm = memory(ops[1]);
            break;
          case 'st':
            want(2);
            w0 = Op.ST | (reg(ops[0]) << 8);
            imm = memory(ops[1]);
            break;
          case 'xadd':
            want(3);
            w0 = Op.XADD | (reg(ops[0]) << 8) | (reg(ops[2]) << 16);
            imm = memory(ops[1]);
            break;
          case 'jmp':
          case 'call':
            want(1);
            w0 = mnemonic === 'jmp' ? Op.JMP : Op.CALL;
            imm = value(ops[0]);
            break;
          case 'beqz':
          case 'bnez':
            want(2);
            w0 = (mnemonic === 'beqz' ? Op.BEQZ : Op.BNEZ) | (reg(ops[0]) << 12);
            imm = value(ops[1]);
            break;
          case 'out':
            want(2);
            w0 = Op.OUT | (reg(ops[1]) << 12);
            imm = value(ops[0]);
            break;
          case 'in':
            want(2);
            w0 = Op.IN | (reg(ops[0]) << 8);
            imm = value(ops[1]);
            break;
          case 'cpuid':
          case 'ncpus':
            want(1);
            w0 = (mnemonic === 'cpuid' ? Op.CPUID : Op.NCPUS) | (reg(ops[0]) << 8);
            break;
          default:
            fail(`unknown instruction '${mnemonic}'`);
        }
      }
      words.push(w0, imm);
      instructions++;
      if (pass2) lineMap.set(at, { line: n + 1, text: raw.trim() });
    }
  }
  if (instructions === 0) throw new AsmError(`${file}: the program has no instructions`);
  if (words.length > ctx.fbBase) {
    throw new AsmError(
      `${file}: the program is ${words.length} words long and would overlap the framebuffer at ${ctx.fbBase}`,
    );
  }
  return { words: Int32Array.from(words), lines: lineMap, symbols, file, instructions };
}
