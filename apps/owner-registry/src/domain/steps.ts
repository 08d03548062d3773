/**
 * Use cases as tables of named steps: each step reads and extends one context object. A failing
 * step's name is attached to the error (`step`) for logs; the tables double as documentation.
 */
export interface Step<C> {
  readonly name: string;
  run(context: C): Promise<void> | void;
}

export async function runSteps<C>(steps: ReadonlyArray<Step<C>>, context: C): Promise<C> {
  for (const step of steps) {
    try {
      await step.run(context);
    } catch (error) {
      if (error instanceof Error && !('step' in error)) Object.assign(error, { step: step.name });
      throw error;
    }
  }
  return context;
}
