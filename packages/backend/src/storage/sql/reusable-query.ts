/**
 * `ReusableQuery`: a Kysely query built and compiled once, then run with new argument values. The
 * lookups made on every authenticated request (a key by value, a user by id) use it, so a request
 * spends its time in the database rather than in building and compiling the same SQL again.
 * @module
 */
import type { Compilable, CompiledQuery, Kysely } from "kysely";

/** Stands for argument `i` while the query is compiled; no real value contains NUL characters. */
function placeholder(i: number): string {
  return `\u0000crossauth-argument-${i}\u0000`;
}

/**
 * A query compiled once. `build` receives one placeholder string per argument and must use each as a
 * value (never as an identifier); {@link ReusableQuery.execute} substitutes the arguments for them.
 * Values that `build` writes in itself (such as a `limit`) stay as compiled.
 */
export class ReusableQuery<Row> {
  private readonly compiled: CompiledQuery<Row>;
  /** For each compiled parameter, the argument it takes, or -1 for a value fixed at compile time. */
  private readonly slots: number[];

  /**
   * @param db - the database the query runs on
   * @param arity - the number of arguments
   * @param build - builds the query from the placeholders
   * @throws Error when a placeholder does not end up as a parameter of the compiled query
   */
  constructor(
    private readonly db: Kysely<any>,
    arity: number,
    build: (db: Kysely<any>, ...placeholders: string[]) => Compilable<Row>,
  ) {
    const placeholders = Array.from({ length: arity }, (_, i) => placeholder(i));
    this.compiled = build(db, ...placeholders).compile();
    this.slots = this.compiled.parameters.map((value) => placeholders.indexOf(value as string));
    for (let i = 0; i < arity; i++) {
      if (!this.slots.includes(i)) throw new Error(`Argument ${i} is not a parameter of the query`);
    }
  }

  /**
   * Runs the query with these argument values.
   * @param args - one value per placeholder, in order
   * @returns the rows
   * @throws the driver's errors, unmapped
   */
  async execute(...args: unknown[]): Promise<Row[]> {
    const fixed = this.compiled.parameters;
    const parameters = this.slots.map((slot, i) => (slot < 0 ? fixed[i] : args[slot]));
    return (await this.db.executeQuery<Row>({ ...this.compiled, parameters })).rows;
  }
}
