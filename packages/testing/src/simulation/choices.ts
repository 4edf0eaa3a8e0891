// Every decision of a simulation comes from one tape of choices: drawn from a seeded generator on
// a first run, read back from a recorded tape on a replay. A replay of the same tape makes the same
// decisions, so a failing run reproduces exactly; and any tape is valid (a choice is taken modulo
// the options there are), so shrinking can cut and lower a failing tape and replay what is left.

/** mulberry32: a small, fast, well-distributed 32-bit generator; the same seed, the same stream. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** The source of a run's decisions; `tape` is what it drew, for replaying and shrinking. */
export class Choices {
  readonly tape: number[] = [];
  readonly #draw: () => number;

  private constructor(draw: () => number) {
    this.#draw = draw;
  }

  /** A first run: choices drawn from `seed`. */
  static seeded(seed: number): Choices {
    return new Choices(mulberry32(seed));
  }

  /** A replay of `tape`; past its end every choice is 0 (the first option, the least eventful). */
  static replay(tape: readonly number[]): Choices {
    let at = 0;
    return new Choices(() => tape[at++] ?? 0);
  }

  /** A whole number from 0 to `n - 1`. */
  int(n: number): number {
    const raw = this.#draw();
    this.tape.push(raw);
    return n <= 1 ? 0 : raw % n;
  }

  /** True with probability `p` (0 on a tape of zeros: faults shrink away). */
  chance(p: number): boolean {
    if (p <= 0) {
      this.tape.push(0);
      return false;
    }
    return this.int(1_000_000) >= 1_000_000 - Math.round(p * 1_000_000);
  }

  /** One of `items`, the first when the choice is 0. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** A number in [0, 1), for code that wants a `Math.random`. */
  random(): number {
    return this.int(1 << 30) / (1 << 30);
  }
}
