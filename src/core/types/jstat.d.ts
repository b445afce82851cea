/** The part of jStat (https://github.com/jstat/jstat, no bundled types) that src/core/experiments/claim.ts uses. */
declare module 'jstat' {
  export const jStat: {
    studentt: {
      /** The CDF of Student's t distribution with `dof` degrees of freedom at `x`. */
      cdf(x: number, dof: number): number;
    };
  };
}
