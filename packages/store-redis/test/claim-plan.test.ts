// The cross-partition claim plan without a server: every partition's dry run merged into the
// store-wide claim order, with poison isolation applied to the merged order, not per partition.
import { describe, expect, it } from 'vitest';
import { planClaim } from '../src/claim.js';

const row = (partition: number, id: string, rank: number, recovered = false) => ({ partition, id, rank, recovered });

describe('planClaim', () => {
  it('takes the lowest ranks across partitions, ties by id in code-point order', () => {
    const plan = planClaim([row(0, 'b', 5), row(1, 'a', 5), row(2, 'c', 1), row(0, 'z', 9), row(1, '\u{10000}', 5), row(2, '\uE000', 5)], 4);
    // Order: c(2) a(1) b(0) \uE000(2) | \u{10000}(1) z(0)
    expect(plan).toEqual([
      { partition: 2, limit: 2, allowRecovered: false },
      { partition: 1, limit: 1, allowRecovered: false },
      { partition: 0, limit: 1, allowRecovered: false },
    ]);
  });

  it('claims a recovered row alone when it comes first in the merged order', () => {
    expect(planClaim([row(0, 'fresh', 2), row(3, 'poison', 1, true), row(1, 'other', 3)], 10)).toEqual([{ partition: 3, limit: 1, allowRecovered: true }]);
  });

  it('stops the batch before the first recovered row of any partition, and never lets a partition return one', () => {
    const plan = planClaim([row(0, 'a', 1), row(1, 'b', 2), row(2, 'poison', 3, true), row(0, 'c', 4), row(1, 'd', 5)], 10);
    expect(plan).toEqual([
      { partition: 0, limit: 1, allowRecovered: false },
      { partition: 1, limit: 1, allowRecovered: false },
    ]);
  });

  it('orders by rank, so a higher priority elsewhere comes before an older row', () => {
    // Ranks as PEEK reports them: availableAt - priority × 1000.
    const plan = planClaim([row(0, 'old', 1000), row(1, 'urgent', 5000 - 10 * 1000), row(2, 'later', 9000)], 2);
    expect(plan).toEqual([
      { partition: 1, limit: 1, allowRecovered: false },
      { partition: 0, limit: 1, allowRecovered: false },
    ]);
  });

  it('plans nothing when no partition has a claimable row', () => {
    expect(planClaim([], 5)).toEqual([]);
  });
});
